// Per-layer activation sign statistics of one model version, folded from the
// BatchActivationCounts the engine produces for each sampled batch.
//
// For every observed hidden activation (IsObservedLayer) the tracker
// keeps
//   - cumulative totals: values seen and values whose pre-activation was
//     negative (mlpserve_activation_values_total / _negative_total);
//   - a sliding window of the most recent `dead_window_rows` observed rows,
//     over which it reports the negative ratio, each unit's positive rate
//     (rows with pre-activation > 0 / rows in the window) and the dead units:
//     units with no positive pre-activation in the window. Until a full
//     window has been seen, the window is every row seen so far, and no unit
//     is reported dead: a handful of rows (a canary's traffic, the first
//     requests after a load) is no evidence that a unit never fires.
//
// Window granularity: the window is made of whole batches. Batches are kept
// as blocks; a batch smaller than block_rows = max(1, dead_window_rows / 64)
// is merged into the newest block while that block is still smaller than
// block_rows. The window is the shortest run of most recent blocks holding at
// least dead_window_rows rows, so it holds between dead_window_rows and
// dead_window_rows + block_rows + max_batch_rows - 2 rows, and is exact when
// the batches (each >= block_rows rows) sum to dead_window_rows. Memory is
// O(units * blocks) with about 64 + max_batch_rows / block_rows blocks.
//
// The `layer` of a LayerActivationView is the 0-based position of the
// activation among the model's observed activations, not the dense layer
// index (that is `layer_index`).
//
// Thread-safety: thread-safe. Ingest takes a short mutex (O(units) per
// layer); Snapshot copies the state under the same mutex.
#ifndef MLPSERVE_SERVER_METRICS_ACTIVATION_TRACKER_H_
#define MLPSERVE_SERVER_METRICS_ACTIVATION_TRACKER_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/engine/activation_counts.h"
#include "server/model/mlp.h"

namespace mlpserve {

// One observed layer as seen at Snapshot time. Plain value.
struct LayerActivationView {
  int layer = 0;           // position among observed activations
  int layer_index = 0;     // index in Mlp::layers
  std::string node;        // ONNX node of the activation ("" if unknown)
  std::string activation;  // ActivationName(), e.g. "leaky_relu"
  int64_t units = 0;
  int64_t values_total = 0;           // cumulative rows * units
  int64_t negative_total = 0;         // cumulative negative pre-activations
  int64_t window_rows = 0;            // rows in the current window
  bool window_full = false;           // window_rows >= dead_window_rows
  double negative_ratio = 0;          // over the window; 0 when the window is empty
  int64_t dead_units = 0;             // units with no positive row in a full window
  std::vector<double> positive_rate;  // per unit, over the window
  std::vector<bool> dead;             // per unit; all false until the window is full
};

struct ActivationView {
  int64_t rows_seen = 0;         // observed rows since load
  int64_t batches_seen = 0;      // observed batches since load
  int64_t dead_window_rows = 0;  // configured window
  std::vector<LayerActivationView> layers;
};

class ActivationTracker {
 public:
  // Observes the layers of `mlp` for which IsObservedLayer holds.
  // dead_window_rows == 0 means the default (1000); larger than
  // kMaxDeadWindowRows (model_config.h) means that.
  ActivationTracker(const Mlp& mlp, uint64_t dead_window_rows);

  ActivationTracker(const ActivationTracker&) = delete;
  ActivationTracker& operator=(const ActivationTracker&) = delete;

  // Folds one sampled batch in. INVALID_ARGUMENT (state unchanged) when the
  // counts do not match the model: wrong number of layers, a layer_index or
  // unit count that differs, rows outside [1, kMaxMaxBatchSize], or counts
  // larger than possible.
  absl::Status Ingest(const BatchActivationCounts& counts);

  ActivationView Snapshot() const;

  // Number of observed layers (fixed at construction).
  int num_layers() const { return static_cast<int>(meta_.size()); }

 private:
  struct LayerMeta {
    int layer_index = 0;
    std::string node;
    std::string activation;
    int64_t units = 0;
  };
  // A run of consecutive batches, per layer: negative values and per-unit
  // positive rows.
  struct Block {
    int64_t rows = 0;
    std::vector<int64_t> negative;                // per layer
    std::vector<std::vector<uint32_t>> positive;  // per layer, per unit
  };

  static std::vector<LayerMeta> ObservedLayers(const Mlp& mlp);
  absl::Status Validate(const BatchActivationCounts& counts) const;
  void Evict() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::vector<LayerMeta> meta_;
  const int64_t window_;
  const int64_t block_rows_;

  mutable absl::Mutex mu_;
  int64_t rows_seen_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t batches_seen_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int64_t> values_total_ ABSL_GUARDED_BY(mu_);    // per layer
  std::vector<int64_t> negative_total_ ABSL_GUARDED_BY(mu_);  // per layer
  std::deque<Block> blocks_ ABSL_GUARDED_BY(mu_);
  // Sums over blocks_.
  int64_t window_rows_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int64_t> window_negative_ ABSL_GUARDED_BY(mu_);               // per layer
  std::vector<std::vector<int64_t>> window_positive_ ABSL_GUARDED_BY(mu_);  // per layer, unit
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_METRICS_ACTIVATION_TRACKER_H_

// Per-version inference statistics, as the ModelStatistics RPC reports them
// (Triton's statistics extension): request outcomes with their cumulative
// queue and compute time, executed batches, and the time of the last
// inference. It is also a BatchObserver that forwards every report to the
// model's metrics, so the scheduler has a single observer.
//
// Thread-safety: every method is thread-safe and lock-free (relaxed atomics:
// a snapshot may mix counts from a request in progress).
#ifndef MLPSERVE_SERVER_REPOSITORY_MODEL_STATS_H_
#define MLPSERVE_SERVER_REPOSITORY_MODEL_STATS_H_

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/scheduler/batch_observer.h"
#include "server/scheduler/infer_request.h"

namespace mlpserve {

struct ModelStatsSnapshot {
  uint64_t last_inference_ms = 0;  // Unix ms of the last successful request; 0 never
  uint64_t inference_count = 0;    // rows computed
  uint64_t execution_count = 0;    // batches executed
  uint64_t success_count = 0, success_ns = 0;
  uint64_t fail_count = 0, fail_ns = 0;
  uint64_t queue_count = 0, queue_ns = 0;
  uint64_t compute_count = 0, compute_ns = 0;
};

class ModelStats final : public BatchObserver {
 public:
  // `next` receives every batch report too; not owned; may be null.
  explicit ModelStats(BatchObserver* next) : next_(next) {}

  // One ModelInfer for this version ended after `total`; `timing` is set
  // when it was computed.
  void RecordRequest(absl::StatusCode code, absl::Duration total, const InferTiming* timing,
                     int64_t rows, absl::Time now);

  void OnBatch(const BatchReport& report) override;
  void OnQueueDepth(size_t depth) override;

  ModelStatsSnapshot Snapshot() const;

 private:
  BatchObserver* const next_;
  std::atomic<uint64_t> last_inference_ms_{0};
  std::atomic<uint64_t> inference_count_{0};
  std::atomic<uint64_t> execution_count_{0};
  std::atomic<uint64_t> success_count_{0}, success_ns_{0};
  std::atomic<uint64_t> fail_count_{0}, fail_ns_{0};
  std::atomic<uint64_t> queue_count_{0}, queue_ns_{0};
  std::atomic<uint64_t> compute_count_{0}, compute_ns_{0};
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_REPOSITORY_MODEL_STATS_H_

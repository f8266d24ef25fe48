// Per-version inference statistics, as the ModelStatistics RPC reports them
// (Triton's statistics extension): request outcomes with their cumulative
// queue, input, compute and output time, executed batches by batch size, and
// the time of the last inference. It is also a BatchObserver that forwards
// every report to the model's metrics, so the scheduler has a single
// observer.
//
// What the durations measure in mlpserve (Triton's names):
//   queue           enqueue -> the start of the request's batch
//   compute_input   model lookup and decoding/checking the input tensor, on
//                   the gRPC thread (the rows are read in place; their copy
//                   into the batch buffer is part of compute_infer)
//   compute_infer   the engine run of the request's batch
//   compute_output  encoding the request's rows into its response
// Per batch size (batch_stats), for the batches that ran OK, each duration
// per execution as Triton counts it (count = executions, ns = the stage's
// time over all of them): compute_infer is the batch's engine run;
// compute_input the mean decode time of a batch's requests (they were
// decoded in parallel on gRPC threads before they queued, so the batch waited
// for none of it beyond one request's); compute_output the sum of its
// requests' encode times (the executor encodes them one after another).
//
// Thread-safety: every method is thread-safe. Counters are relaxed atomics
// (a snapshot may mix counts from a request in progress); batch sizes above
// kDenseBatchSizes, whose batches are few and long, go to a map under a
// short mutex.
#ifndef MLPSERVE_SERVER_REPOSITORY_MODEL_STATS_H_
#define MLPSERVE_SERVER_REPOSITORY_MODEL_STATS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/scheduler/batch_observer.h"
#include "server/scheduler/infer_request.h"

namespace mlpserve {

// Cumulative figures of the batches of one size that ran OK.
struct BatchSizeStats {
  int64_t batch_size = 0;                              // rows
  uint64_t count = 0;                                  // executions
  uint64_t input_ns = 0, infer_ns = 0, output_ns = 0;  // see the file comment
};

struct ModelStatsSnapshot {
  // When the last successful request ended, on the request clock's time
  // line (RequestRecord::now); InfinitePast() if none has.
  absl::Time last_inference = absl::InfinitePast();
  uint64_t inference_count = 0;  // rows computed
  uint64_t execution_count = 0;  // batches executed
  uint64_t success_count = 0, success_ns = 0;
  uint64_t fail_count = 0, fail_ns = 0;
  uint64_t queue_count = 0, queue_ns = 0;
  uint64_t compute_count = 0, compute_ns = 0;  // compute_infer
  uint64_t input_count = 0, input_ns = 0;      // compute_input
  uint64_t output_count = 0, output_ns = 0;    // compute_output
  std::vector<BatchSizeStats> batches;         // ascending batch_size
};

// How one ModelInfer of this version ended.
struct RequestRecord {
  absl::StatusCode code = absl::StatusCode::kOk;
  absl::Duration total;                 // receipt to response
  const InferTiming* timing = nullptr;  // set when it was computed (code OK)
  absl::Duration input;                 // with timing: lookup and decode
  absl::Duration output;                // with timing: response encode
  int64_t rows = 0;                     // with timing: the request's rows
  absl::Time now;                       // when it ended
};

class ModelStats final : public BatchObserver {
 public:
  // `next` receives every batch report too; not owned; may be null.
  explicit ModelStats(BatchObserver* next) : next_(next) {}

  void RecordRequest(const RequestRecord& record);

  void OnBatch(const BatchReport& report) override;
  void OnQueueDepth(size_t depth) override;

  ModelStatsSnapshot Snapshot() const;

  // Batch sizes 1..kDenseBatchSizes are counted without a lock.
  static constexpr int64_t kDenseBatchSizes = 256;

 private:
  // Raw sums of one batch size: executions and their engine time, and the
  // computed requests in such batches with their input and output time.
  struct BatchSums {
    uint64_t executions = 0, infer_ns = 0;
    uint64_t requests = 0, input_ns = 0, output_ns = 0;
  };
  struct BatchSlot {
    std::atomic<uint64_t> executions{0}, infer_ns{0};
    std::atomic<uint64_t> requests{0}, input_ns{0}, output_ns{0};
  };
  void AddToBatchSize(int64_t rows, const BatchSums& add);
  static BatchSizeStats PerExecution(int64_t rows, const BatchSums& sums);

  BatchObserver* const next_;
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
  std::atomic<int64_t> last_inference_ns_{kNever};  // Unix ns on the request clock
  std::atomic<uint64_t> inference_count_{0};
  std::atomic<uint64_t> execution_count_{0};
  std::atomic<uint64_t> success_count_{0}, success_ns_{0};
  std::atomic<uint64_t> fail_count_{0}, fail_ns_{0};
  // Requests computed: the count of queue, compute_input/infer/output alike.
  std::atomic<uint64_t> computed_count_{0};
  std::atomic<uint64_t> queue_ns_{0}, compute_ns_{0}, input_ns_{0}, output_ns_{0};
  std::array<BatchSlot, kDenseBatchSizes + 1> dense_batches_;  // index: batch size
  mutable absl::Mutex sparse_mu_;
  std::map<int64_t, BatchSums> sparse_batches_ ABSL_GUARDED_BY(sparse_mu_);
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_REPOSITORY_MODEL_STATS_H_

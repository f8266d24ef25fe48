// Hook through which the scheduler reports each executed batch (metrics and
// activation statistics subscribe to it). Called after the batch's requests
// were answered, on executor threads and, for a request run inline (see
// SchedulerOptions::inline_max_rows), on the thread that submitted it (a
// gRPC thread); implementations must be thread-safe and must not block.
#ifndef MLPSERVE_SERVER_SCHEDULER_BATCH_OBSERVER_H_
#define MLPSERVE_SERVER_SCHEDULER_BATCH_OBSERVER_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/engine/activation_counts.h"

namespace mlpserve {

struct BatchReport {
  int64_t rows = 0;
  int requests = 0;
  absl::Duration compute;
  // OK, or the engine error every request of the batch got.
  absl::Status status;
  // Sign counts when this batch was sampled; nullptr otherwise.
  const BatchActivationCounts* activations = nullptr;
};

class BatchObserver {
 public:
  virtual ~BatchObserver() = default;
  virtual void OnBatch(const BatchReport& report) = 0;
  // The queue depth changed (after enqueue or batch formation). Called with
  // the scheduler's lock held: must be quick and must not call back into the
  // scheduler.
  virtual void OnQueueDepth(size_t depth) { (void)depth; }
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_SCHEDULER_BATCH_OBSERVER_H_

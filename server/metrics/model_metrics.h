// Metric series of one loaded model version. Created by
// MetricsRegistry::AddModel; the scheduler reports batches to it (it is the
// scheduler's BatchObserver) and the rpc layer reports each request outcome.
// Activation sign counts are folded into an ActivationTracker whose windowed
// view also feeds the /v1/activations JSON and the /activations page.
//
// What each call records (see metrics_registry.h for the names):
//   OnBatch       executions_total and inferences_total (+rows) when the batch
//                 succeeded, compute_duration_seconds and batch_size for every
//                 batch, and the batch's activation counts, if any, into
//                 activations() (counts that do not match the model are
//                 dropped).
//   OnQueueDepth  this instance's share of queue_depth: the gauge is the sum
//                 over the version's live instances (while a reloaded version
//                 drains its old instance, both queues count).
//   RecordRequest requests_total{code}; for an admitted request (whatever
//                 its code: a request that timed out in the queue is among
//                 the slowest) also request_duration_seconds (total) and,
//                 with `timing`, queue_duration_seconds (timing->queue, also
//                 of a request dropped from the queue). Refused
//                 requests stay out of the latency histogram: under overload
//                 the refusals (microseconds each) would otherwise pull the
//                 quantiles down while admitted requests wait longer.
//
// Lifetime: created by MetricsRegistry::AddModel, must be destroyed before the
// registry; no method may be called during or after destruction.
//
// Thread-safety: every method is thread-safe and non-blocking (cached
// prometheus series, atomic counters; the tracker takes a short mutex per
// observed batch; SetReady takes the registry's mutex).
#ifndef MLPSERVE_SERVER_METRICS_MODEL_METRICS_H_
#define MLPSERVE_SERVER_METRICS_MODEL_METRICS_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/scheduler/batch_observer.h"
#include "server/scheduler/infer_request.h"

namespace mlpserve {

class ActivationTracker;

class ModelMetrics : public BatchObserver {
 public:
  ~ModelMetrics() override = default;

  // How far a request got before it was answered.
  enum class Admission {
    kRefused,   // answered before it reached the scheduler: auth, decode,
                // a full queue, shutdown
    kAdmitted,  // taken by the scheduler: computed, or dropped from its queue
  };
  // One ModelInfer finished with `code` after `total` (receipt to response).
  // `timing` is non-null when the scheduler answered the request (admitted,
  // whatever its code); its `queue` is the time it waited in the queue.
  virtual void RecordRequest(absl::StatusCode code, absl::Duration total, const InferTiming* timing,
                             Admission admission) = 0;
  // mlpserve_model_ready{model,version}.
  virtual void SetReady(bool ready) = 0;
  // The per-unit activation view of this model version.
  virtual const ActivationTracker& activations() const = 0;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_METRICS_MODEL_METRICS_H_

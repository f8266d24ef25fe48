// Metric series of one loaded model version. Created by
// MetricsRegistry::AddModel; the scheduler reports batches to it (it is the
// scheduler's BatchObserver) and the rpc layer reports each request outcome.
// Activation sign counts are folded into an ActivationTracker whose windowed
// view also feeds the /v1/activations JSON and the /activations page.
//
// Thread-safety: every method is thread-safe and non-blocking (atomic
// counters; the tracker takes a short mutex per observed batch).
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

  // One ModelInfer finished with `code` after `total` (receipt to response).
  // `timing` is non-null when the request was computed (OK).
  virtual void RecordRequest(absl::StatusCode code, absl::Duration total,
                             const InferTiming* timing) = 0;
  // mlpserve_model_ready{model,version}.
  virtual void SetReady(bool ready) = 0;
  // The per-unit activation view of this model version.
  virtual const ActivationTracker& activations() const = 0;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_METRICS_MODEL_METRICS_H_

// Internal to server/metrics: the ModelMetrics MetricsRegistry hands out, and
// the cached prometheus series of one model version that its instances share.
#ifndef MLPSERVE_SERVER_METRICS_MODEL_METRICS_IMPL_H_
#define MLPSERVE_SERVER_METRICS_MODEL_METRICS_IMPL_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/labels.h"
#include "server/metrics/activation_tracker.h"
#include "server/metrics/metrics_registry.h"
#include "server/metrics/model_metrics.h"

namespace mlpserve {

struct MetricsRegistry::Families {
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Counter>& inferences;
  prometheus::Family<prometheus::Counter>& executions;
  prometheus::Family<prometheus::Histogram>& request_duration;
  prometheus::Family<prometheus::Histogram>& queue_duration;
  prometheus::Family<prometheus::Histogram>& compute_duration;
  prometheus::Family<prometheus::Histogram>& batch_size;
  prometheus::Family<prometheus::Gauge>& queue_depth;
  prometheus::Family<prometheus::Gauge>& model_ready;
  prometheus::Family<prometheus::Gauge>& build_info;
};

namespace metrics_internal {

inline constexpr int kNumStatusCodes = 17;

// Index into a per-code array; codes outside 0..16 count as UNKNOWN.
int StatusCodeIndex(absl::StatusCode code);

// mlpserve_requests_total{labels..., code}: the cached counter of `code`,
// added to `family` on first use. Thread-safe (Family::Add is, and returns
// the existing series for equal labels).
prometheus::Counter& RequestCounter(prometheus::Family<prometheus::Counter>& family,
                                    const prometheus::Labels& labels,
                                    std::array<std::atomic<prometheus::Counter*>, 17>& cache,
                                    absl::StatusCode code);

// The series of one model version, created at the first AddModel of that
// version and removed from their families by Remove() when its last instance
// goes. Pointers stay valid until then.
struct ModelSeries {
  ModelSeries(MetricsRegistry::Families& families, const prometheus::Labels& labels);
  void Remove();

  MetricsRegistry::Families& families;
  const prometheus::Labels labels;  // {model, version}
  std::array<std::atomic<prometheus::Counter*>, kNumStatusCodes> requests{};
  prometheus::Counter& inferences;
  prometheus::Counter& executions;
  prometheus::Histogram& request_duration;
  prometheus::Histogram& queue_duration;
  prometheus::Histogram& compute_duration;
  prometheus::Histogram& batch_size;
  prometheus::Gauge& queue_depth;
  prometheus::Gauge& model_ready;
};

class ModelMetricsImpl : public ModelMetrics {
 public:
  // `series` is owned by `registry` and outlives this object.
  ModelMetricsImpl(MetricsRegistry* registry, std::string model, int64_t version,
                   ModelSeries* series, const Mlp& mlp, bool activations_enabled,
                   uint64_t dead_window_rows);
  ~ModelMetricsImpl() override;

  void OnBatch(const BatchReport& report) override;
  void OnQueueDepth(size_t depth) override;
  void RecordRequest(absl::StatusCode code, absl::Duration total, const InferTiming* timing,
                     Admission admission) override;
  void SetReady(bool ready) override;
  const ActivationTracker& activations() const override { return tracker_; }

  bool activations_enabled() const { return activations_enabled_; }

 private:
  MetricsRegistry* const registry_;
  const std::pair<std::string, int64_t> key_;
  ModelSeries* const series_;
  const bool activations_enabled_;
  ActivationTracker tracker_;  // no layers when activations are disabled
  // The depth this instance last reported; series_->queue_depth holds the
  // sum over instances, each adding the change of its own depth.
  std::atomic<int64_t> queue_depth_{0};
};

}  // namespace metrics_internal
}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_METRICS_MODEL_METRICS_IMPL_H_

// Prometheus metrics of the server: one MetricsRegistry per process owns the
// prometheus::Registry and every metric family (registered once, at start),
// and hands out a ModelMetrics per loaded model version whose series are
// created once at model load and cached, so the request path never looks up
// a family or a label set.
//
// Names and labels follow the house rules: prefix mlpserve_, base units,
// counters end in _total, labels model, version, code, layer.
//
// Thread-safety: every method is thread-safe.
#ifndef MLPSERVE_SERVER_METRICS_METRICS_REGISTRY_H_
#define MLPSERVE_SERVER_METRICS_METRICS_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/model_config.pb.h"
#include "server/metrics/model_metrics.h"
#include "server/model/mlp.h"

namespace prometheus {
class Registry;
}

namespace mlpserve {

class MetricsRegistry {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsRegistry>> Create();
  ~MetricsRegistry();

  // Series for one model version: request, queue, compute, batch and
  // activation metrics plus mlpserve_layer_info. Destroying the returned
  // object removes its series (the model was unloaded).
  std::unique_ptr<ModelMetrics> AddModel(const std::string& model, int64_t version, const Mlp& mlp,
                                         const ActivationStats& stats_config);

  // A request that never reached a model version (unknown model or version,
  // malformed request naming no loadable model): counted in
  // mlpserve_requests_total with model="" and version="".
  void RecordUnroutedRequest(absl::StatusCode code);

  std::shared_ptr<prometheus::Registry> registry() const;

  struct Families;  // defined in the .cc

 private:
  MetricsRegistry();
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_METRICS_METRICS_REGISTRY_H_

// JSON documents of the /v1/activations endpoints (nlohmann-json).
//
//   ModelActivationsJson: {"model": M, "versions": [{"version": V,
//     "rows_seen": N, "batches_seen": B, "dead_window_rows": W, "layers": [
//       {"layer": 0, "layer_index": 1, "node": "...", "activation": "leaky_relu",
//        "units": U, "rows_seen": N, "window_rows": R, "window_full": true,
//        "values_total": ..., "negative_total": ..., "negative_ratio": 0.37,
//        "dead_units": 2, "positive_rate": [U numbers], "dead": [U booleans]}]}]}
//   (dead_units 0 and dead all false until window_full)
//   (versions ascending; `layer` is the position among observed activations)
//   ModelListJson: {"models": [{"model": M, "versions": [V...]}]}
//   ErrorJson: {"error": message}
//
// Free functions; thread-safe.
#ifndef MLPSERVE_SERVER_METRICS_ACTIVATION_JSON_H_
#define MLPSERVE_SERVER_METRICS_ACTIVATION_JSON_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/metrics/metrics_registry.h"

namespace mlpserve {

// The versions of `model` among `views`; "" when there is none.
std::string ModelActivationsJson(absl::string_view model,
                                 const std::vector<ModelActivations>& views);

std::string ModelListJson(const std::vector<ModelActivations>& views);

std::string ErrorJson(absl::string_view message);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_METRICS_ACTIVATION_JSON_H_

// The per-layer activation metric families, built at scrape time from the
// live models' activation views (names and labels in metrics_registry.h).
// Families without any series are left out.
//
// Free function; thread-safe.
#ifndef MLPSERVE_SERVER_METRICS_ACTIVATION_FAMILIES_H_
#define MLPSERVE_SERVER_METRICS_ACTIVATION_FAMILIES_H_

#include <vector>

#include "prometheus/metric_family.h"
#include "server/metrics/metrics_registry.h"

namespace mlpserve {

std::vector<prometheus::MetricFamily> ActivationFamilies(
    const std::vector<ModelActivations>& models);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_METRICS_ACTIVATION_FAMILIES_H_

// The /activations page: one self-contained HTML document (inline CSS and
// SVG, no script, no external assets) drawing every live model version's
// observed layers as heatmaps of unit positive rate over the recent window,
// dead units black with a red cross. It refreshes itself every 10 s.
//
// Stable hooks for tests and scrapers: each model version is a
// <section class="model" data-model=M data-version=V>, each layer a
// <figure class="layer" id="layer-M-V-L" data-layer=L data-units=U
// data-dead=D>, each unit an SVG <rect class="unit"> (class "unit dead" for
// dead units) whose <title> states its positive rate. In ids, characters
// outside [A-Za-z0-9_-] of the model name become '_'.
//
// Free function; thread-safe.
#ifndef MLPSERVE_SERVER_METRICS_ACTIVATION_PAGE_H_
#define MLPSERVE_SERVER_METRICS_ACTIVATION_PAGE_H_

#include <string>
#include <vector>

#include "server/metrics/metrics_registry.h"

namespace mlpserve {

std::string ActivationsPage(const std::vector<ModelActivations>& views);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_METRICS_ACTIVATION_PAGE_H_

// Sign counts of one executed batch, per observed layer: what the engine
// measures on the layer outputs and hands to the activation statistics.
//
// "Negative" and "positive" refer to the pre-activation x of the layer's
// activation, derived exactly from the output where the activation keeps or
// flips the sign (Leaky ReLU / PReLU with slope > 0 keep it, slope < 0 flips
// it; sigmoid is compared with 0.5). Where the output cannot tell x < 0 from
// x == 0 (ReLU, slope == 0), x == 0 counts as negative.
#ifndef MLPSERVE_SERVER_ENGINE_ACTIVATION_COUNTS_H_
#define MLPSERVE_SERVER_ENGINE_ACTIVATION_COUNTS_H_

#include <cstdint>
#include <vector>

namespace mlpserve {

struct LayerSignCounts {
  // Index of the dense layer in Mlp::layers.
  int layer_index = 0;
  int64_t values = 0;    // rows * units seen
  int64_t negative = 0;  // of those, pre-activation < 0
  // Per unit: rows in this batch where the pre-activation was > 0.
  std::vector<uint32_t> positive_rows;
};

struct BatchActivationCounts {
  int64_t rows = 0;
  // One entry per observed layer (IsObservedActivation), in layer order.
  std::vector<LayerSignCounts> layers;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_ENGINE_ACTIVATION_COUNTS_H_

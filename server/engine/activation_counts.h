// Sign counts of one executed batch, per observed layer: what the engine
// measures on the layer outputs and hands to the activation statistics.
//
// "Negative" and "positive" refer to the pre-activation x of the layer's
// activation. Where the output shows the sign of x (Leaky ReLU / PReLU with
// slope > 0, tanh; sigmoid compared with 0.5) it is read from the output.
// With a negative slope the output is >= 0 on both sides and cannot tell, so
// such layers are counted on the matmul output before the activation runs.
// Where the output cannot tell x < 0 from x == 0 (ReLU, slope == 0), x == 0
// counts as negative. A NaN x is not negative and counts in positive_rows:
// a unit fed NaN is broken upstream, not dead.
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
  // Per unit: rows in this batch where the pre-activation was > 0 (or NaN).
  std::vector<uint32_t> positive_rows;
};

struct BatchActivationCounts {
  int64_t rows = 0;
  // One entry per observed layer (IsObservedLayer), in layer order.
  std::vector<LayerSignCounts> layers;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_ENGINE_ACTIVATION_COUNTS_H_

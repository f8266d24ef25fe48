// The MLP representation every part of mlpserve works on: what the ONNX
// importer produces, what the engine compiles into oneDNN primitives, and
// what the naive test reference evaluates.
//
// A model is a chain of dense layers. Each layer computes
//     y = activation(x · W + b)
// for a row-major batch x of shape [rows, in]. Weights are stored row-major
// as [in, out] (K x N, the matmul "ab" layout) whatever the ONNX file used,
// so every consumer sees one layout.
//
// Plain values: copyable, no behaviour beyond Validate(); thread-compatible.
#ifndef MLPSERVE_SERVER_MODEL_MLP_H_
#define MLPSERVE_SERVER_MODEL_MLP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mlpserve {

enum class ActivationKind {
  kNone,       // identity
  kRelu,       // max(x, 0)
  kLeakyRelu,  // x >= 0 ? x : alpha * x
  kPRelu,      // x >= 0 ? x : slope[c] * x, one slope per output unit
  kSigmoid,    // 1 / (1 + exp(-x))
  kTanh,       // tanh(x)
  kSoftmax,    // exp(x_c) / sum_j exp(x_j) over the last axis
};

// Lower-case name used in logs, metrics labels and JSON ("leaky_relu").
absl::string_view ActivationName(ActivationKind kind);

struct Activation {
  ActivationKind kind = ActivationKind::kNone;
  // Negative slope of kLeakyRelu.
  float alpha = 0.01f;
  // Per-unit slopes of kPRelu; size == layer's out.
  std::vector<float> slope;
  // Name of the ONNX node the activation came from ("" when none).
  std::string node;
};

struct DenseLayer {
  int64_t in = 0;
  int64_t out = 0;
  std::vector<float> weights;  // [in, out] row-major, size in * out
  std::vector<float> bias;     // [out]
  Activation activation;
  // Name of the ONNX node the matmul came from, for error messages.
  std::string node;
};

struct Mlp {
  std::string input_name;
  std::string output_name;
  std::vector<DenseLayer> layers;

  int64_t input_features() const { return layers.empty() ? 0 : layers.front().in; }
  int64_t output_features() const { return layers.empty() ? 0 : layers.back().out; }

  // Checks the invariants above: at least one layer, chained shapes, buffer
  // sizes, PReLU slope sizes, softmax only on the last layer, and names that
  // are valid UTF-8 (they become Prometheus labels and protobuf strings). The
  // error names the offending layer.
  absl::Status Validate() const;
};

// True for the layers whose activation sign statistics are reported: hidden
// layers (every layer but the last) whose activation is not kNone (no
// nonlinearity to be on either side of) or kSoftmax. The output layer's
// activation is never observed: the sign of a sigmoid classifier's logit is
// its prediction, and a class the traffic never predicts is not a dead unit.
bool IsObservedLayer(const Mlp& mlp, size_t index);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_MODEL_MLP_H_

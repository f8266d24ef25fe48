#include "server/model/mlp.h"

#include "absl/strings/str_cat.h"
#include "server/common/utf8.h"

namespace mlpserve {

absl::string_view ActivationName(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::kNone:
      return "none";
    case ActivationKind::kRelu:
      return "relu";
    case ActivationKind::kLeakyRelu:
      return "leaky_relu";
    case ActivationKind::kPRelu:
      return "prelu";
    case ActivationKind::kSigmoid:
      return "sigmoid";
    case ActivationKind::kTanh:
      return "tanh";
    case ActivationKind::kSoftmax:
      return "softmax";
  }
  return "unknown";
}

bool IsObservedLayer(const Mlp& mlp, size_t index) {
  if (index + 1 >= mlp.layers.size()) return false;  // the output layer, or out of range
  const ActivationKind kind = mlp.layers[index].activation.kind;
  return kind != ActivationKind::kNone && kind != ActivationKind::kSoftmax;
}

namespace {

absl::Status CheckName(absl::string_view what, absl::string_view name) {
  if (IsValidUtf8(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " '", PrintableName(name),
                   "' is not valid UTF-8 (names go into Prometheus labels and protobuf strings)"));
}

// Every name the model brings: its tensors and the nodes of its layers.
absl::Status CheckNames(const Mlp& mlp) {
  if (absl::Status s = CheckName("input tensor name", mlp.input_name); !s.ok()) return s;
  if (absl::Status s = CheckName("output tensor name", mlp.output_name); !s.ok()) return s;
  for (size_t i = 0; i < mlp.layers.size(); ++i) {
    const DenseLayer& layer = mlp.layers[i];
    for (const std::string* node : {&layer.node, &layer.activation.node}) {
      if (absl::Status s = CheckName(absl::StrCat("layer ", i, ": node name"), *node); !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Mlp::Validate() const {
  if (layers.empty()) return absl::InvalidArgumentError("model has no dense layer");
  if (absl::Status names = CheckNames(*this); !names.ok()) return names;
  for (size_t i = 0; i < layers.size(); ++i) {
    const DenseLayer& layer = layers[i];
    const std::string where = absl::StrCat("layer ", i, " (node '", layer.node, "')");
    if (layer.in <= 0 || layer.out <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": shape [", layer.in, ", ", layer.out, "] is not positive"));
    }
    if (i > 0 && layers[i - 1].out != layer.in) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": takes ", layer.in,
                                                     " features but the previous layer gives ",
                                                     layers[i - 1].out));
    }
    if (layer.weights.size() != static_cast<size_t>(layer.in * layer.out)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", layer.weights.size(),
                                                     " weights, expected ", layer.in * layer.out));
    }
    if (layer.bias.size() != static_cast<size_t>(layer.out)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", layer.bias.size(), " biases, expected ", layer.out));
    }
    const Activation& act = layer.activation;
    if (act.kind == ActivationKind::kPRelu && act.slope.size() != static_cast<size_t>(layer.out)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": PRelu '", act.node, "' has ",
                                                     act.slope.size(), " slopes, expected ",
                                                     layer.out));
    }
    if (act.kind == ActivationKind::kSoftmax && i + 1 != layers.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": Softmax '", act.node, "' is only served on the last layer"));
    }
  }
  return absl::OkStatus();
}

}  // namespace mlpserve

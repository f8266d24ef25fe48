#include "tests/support/reference_mlp.h"

#include <algorithm>
#include <cmath>

namespace mlpserve::testing {
namespace {

std::vector<double> Dense(const DenseLayer& layer, const std::vector<double>& x, int64_t rows) {
  std::vector<double> y(rows * layer.out);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < layer.out; ++o) {
      double acc = layer.bias[o];
      for (int64_t i = 0; i < layer.in; ++i) {
        acc += x[r * layer.in + i] * static_cast<double>(layer.weights[i * layer.out + o]);
      }
      y[r * layer.out + o] = acc;
    }
  }
  return y;
}

void Activate(const Activation& act, int64_t rows, int64_t units, std::vector<double>& y) {
  for (int64_t r = 0; r < rows; ++r) {
    double* row = &y[r * units];
    if (act.kind == ActivationKind::kSoftmax) {
      double max = *std::max_element(row, row + units);
      double sum = 0;
      for (int64_t c = 0; c < units; ++c) sum += std::exp(row[c] - max);
      for (int64_t c = 0; c < units; ++c) row[c] = std::exp(row[c] - max) / sum;
      continue;
    }
    for (int64_t c = 0; c < units; ++c) {
      double v = row[c];
      switch (act.kind) {
        case ActivationKind::kNone:
        case ActivationKind::kSoftmax:
          break;
        case ActivationKind::kRelu:
          v = v > 0 ? v : 0;
          break;
        case ActivationKind::kLeakyRelu:
          v = v >= 0 ? v : act.alpha * v;
          break;
        case ActivationKind::kPRelu:
          v = v >= 0 ? v : act.slope[c] * v;
          break;
        case ActivationKind::kSigmoid:
          v = 1.0 / (1.0 + std::exp(-v));
          break;
        case ActivationKind::kTanh:
          v = std::tanh(v);
          break;
      }
      row[c] = v;
    }
  }
}

}  // namespace

std::vector<double> ReferencePreActivation(const Mlp& mlp, const std::vector<float>& input,
                                           int64_t rows, int layer) {
  std::vector<double> x(input.begin(), input.end());
  for (int l = 0; l <= layer; ++l) {
    std::vector<double> y = Dense(mlp.layers[l], x, rows);
    if (l == layer) return y;
    Activate(mlp.layers[l].activation, rows, mlp.layers[l].out, y);
    x = std::move(y);
  }
  return {};
}

std::vector<float> ReferenceForward(const Mlp& mlp, const std::vector<float>& input, int64_t rows) {
  std::vector<double> x(input.begin(), input.end());
  for (const DenseLayer& layer : mlp.layers) {
    std::vector<double> y = Dense(layer, x, rows);
    Activate(layer.activation, rows, layer.out, y);
    x = std::move(y);
  }
  return std::vector<float>(x.begin(), x.end());
}

}  // namespace mlpserve::testing

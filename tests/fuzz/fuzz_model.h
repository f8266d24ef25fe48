// Fixed inputs shared by the fuzz targets: a small Mlp (4 -> 3 -> 2, Leaky
// ReLU between) and the TensorContract that goes with it.
#ifndef MLPSERVE_TESTS_FUZZ_FUZZ_MODEL_H_
#define MLPSERVE_TESTS_FUZZ_FUZZ_MODEL_H_

#include "server/model/mlp.h"
#include "server/rpc/infer_decode.h"

namespace mlpserve::fuzz {

inline constexpr char kModelName[] = "fuzz_model";
inline constexpr int64_t kInputFeatures = 4;
inline constexpr int64_t kMaxBatchSize = 8;

inline Mlp SmallMlp() {
  Mlp mlp;
  mlp.input_name = "input";
  mlp.output_name = "output";
  DenseLayer hidden;
  hidden.in = kInputFeatures;
  hidden.out = 3;
  hidden.weights.assign(hidden.in * hidden.out, 0.5f);
  hidden.bias.assign(hidden.out, 0.1f);
  hidden.activation.kind = ActivationKind::kLeakyRelu;
  hidden.node = "fc0";
  DenseLayer last;
  last.in = 3;
  last.out = 2;
  last.weights.assign(last.in * last.out, -0.25f);
  last.bias.assign(last.out, 0.0f);
  last.node = "fc1";
  mlp.layers = {hidden, last};
  return mlp;
}

inline TensorContract SmallContract(bool reject_non_finite) {
  TensorContract c;
  c.model = kModelName;
  c.version = "1";
  c.input_name = "input";
  c.output_name = "output";
  c.input_features = kInputFeatures;
  c.max_batch_size = kMaxBatchSize;
  c.reject_non_finite = reject_non_finite;
  return c;
}

}  // namespace mlpserve::fuzz

#endif  // MLPSERVE_TESTS_FUZZ_FUZZ_MODEL_H_

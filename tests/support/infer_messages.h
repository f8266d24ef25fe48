// ModelInfer messages for tests: a request carrying one FP32 tensor named
// "input", and a response's first raw output as floats.
#ifndef MLPSERVE_TESTS_SUPPORT_INFER_MESSAGES_H_
#define MLPSERVE_TESTS_SUPPORT_INFER_MESSAGES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "proto/inference.pb.h"

namespace mlpserve::testing {

// A request for `model` with `rows` rows of values.size() / rows features,
// in raw_input_contents (`raw`) or in the tensor's fp32_contents; its id is
// "req-<rows>".
inference::ModelInferRequest MakeInferRequest(const std::string& model,
                                              const std::vector<float>& values, int64_t rows,
                                              bool raw = true);

// The floats of response.raw_output_contents(0); empty when there is none.
std::vector<float> RawOutput(const inference::ModelInferResponse& response);

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_SUPPORT_INFER_MESSAGES_H_

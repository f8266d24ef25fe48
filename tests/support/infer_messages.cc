#include "tests/support/infer_messages.h"

#include <cstring>

namespace mlpserve::testing {

inference::ModelInferRequest MakeInferRequest(const std::string& model,
                                              const std::vector<float>& values, int64_t rows,
                                              bool raw) {
  inference::ModelInferRequest request;
  request.set_model_name(model);
  request.set_id("req-" + std::to_string(rows));
  auto* input = request.add_inputs();
  input->set_name("input");
  input->set_datatype("FP32");
  input->add_shape(rows);
  input->add_shape(static_cast<int64_t>(values.size()) / rows);
  if (raw) {
    request.add_raw_input_contents(
        std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  } else {
    for (float v : values) input->mutable_contents()->add_fp32_contents(v);
  }
  return request;
}

std::vector<float> RawOutput(const inference::ModelInferResponse& response) {
  if (response.raw_output_contents_size() == 0) return {};
  const std::string& raw = response.raw_output_contents(0);
  std::vector<float> out(raw.size() / sizeof(float));
  std::memcpy(out.data(), raw.data(), out.size() * sizeof(float));
  return out;
}

}  // namespace mlpserve::testing

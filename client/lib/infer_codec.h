// Building ModelInferRequests from FP32 rows and reading FP32 tensors back
// out of ModelInferResponses. Pure functions over the generated messages;
// shared by InferenceClient (one request) and PerfRunner (many).
#ifndef MLPSERVE_CLIENT_LIB_INFER_CODEC_H_
#define MLPSERVE_CLIENT_LIB_INFER_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/inference.pb.h"

namespace mlpserve::client {

// A dense FP32 tensor, row-major. data.size() == product(shape) when valid.
struct Tensor {
  std::string name;
  std::string datatype = "FP32";
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// What to ask for in one ModelInfer call.
struct InferSpec {
  std::string model;
  std::string version;  // Empty: the server picks.
  std::string id;       // Echoed back by the server; may be empty.
  // false (default): the input travels in raw_input_contents as
  // little-endian FP32 bytes. true: in inputs[0].contents.fp32_contents.
  bool typed = false;
};

// The decoded answer of one ModelInfer call.
struct InferResult {
  std::string model_name;
  std::string model_version;
  std::string id;
  std::vector<Tensor> outputs;
};

// A model's single FP32 input as ModelMetadata describes it.
struct InputSignature {
  std::string name;
  int64_t features = 0;  // shape[1] of the [N, features] input.
};

// The most float elements a tensor may have: more than one gRPC message (at
// most 2 GiB) can carry; the bound also keeps products of dimensions from
// overflowing.
inline constexpr int64_t kMaxElements = int64_t{1} << 29;

// Product of the dimensions; an error names the first negative one, or says
// the product is beyond kMaxElements.
absl::StatusOr<int64_t> ElementCount(const std::vector<int64_t>& shape);

// One request carrying `input` (its name, shape and data must be set;
// datatype must be FP32). Errors if data.size() does not match the shape.
absl::StatusOr<inference::ModelInferRequest> BuildInferRequest(const InferSpec& spec,
                                                               const Tensor& input);

// Decodes every output, from raw_output_contents when the response has them
// (one entry per output) and from contents.fp32_contents otherwise. Only
// FP32 outputs are supported; a size mismatch names the output at fault.
absl::StatusOr<InferResult> ParseInferResponse(const inference::ModelInferResponse& response);

// The input name and feature count of a model with exactly one FP32 input of
// shape [-1 or N, F] with F > 0.
absl::StatusOr<InputSignature> InputSignatureFromMetadata(
    const inference::ModelMetadataResponse& metadata);

// `rows` x `features` values drawn uniformly from [-1, 1) with a
// deterministic generator seeded by `seed`, as a tensor named `name`.
// INVALID_ARGUMENT when rows or features is < 1 or rows x features is
// beyond kMaxElements (checked without overflow, before allocating).
absl::StatusOr<Tensor> RandomInput(const std::string& name, int64_t rows, int64_t features,
                                   uint64_t seed);

}  // namespace mlpserve::client

#endif  // MLPSERVE_CLIENT_LIB_INFER_CODEC_H_

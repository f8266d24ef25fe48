#include "client/lib/infer_codec.h"

#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mlpserve::client {
namespace {

// Wire bytes are little-endian; so is every platform this builds for.
static_assert(sizeof(float) == 4, "FP32 must be 4 bytes");

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

}  // namespace

absl::StatusOr<int64_t> ElementCount(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeString(shape), " has negative dimension ", i));
    }
    if (shape[i] > 0 && count > kMaxElements / shape[i]) {
      return absl::InvalidArgumentError(absl::StrCat("shape ", ShapeString(shape),
                                                     " has more than ", kMaxElements,
                                                     " elements (more than a message can carry)"));
    }
    count *= shape[i];
  }
  return count;
}

absl::StatusOr<inference::ModelInferRequest> BuildInferRequest(const InferSpec& spec,
                                                               const Tensor& input) {
  if (spec.model.empty()) return absl::InvalidArgumentError("infer request: no model name");
  if (input.datatype != "FP32") {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", input.name, "': datatype ", input.datatype, ", only FP32"));
  }
  absl::StatusOr<int64_t> count = ElementCount(input.shape);
  if (!count.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", input.name, "': ", count.status().message()));
  }
  if (*count != static_cast<int64_t>(input.data.size())) {
    return absl::InvalidArgumentError(absl::StrCat("input '", input.name, "': shape ",
                                                   ShapeString(input.shape), " needs ", *count,
                                                   " values, have ", input.data.size()));
  }
  inference::ModelInferRequest request;
  request.set_model_name(spec.model);
  request.set_model_version(spec.version);
  request.set_id(spec.id);
  auto* tensor = request.add_inputs();
  tensor->set_name(input.name);
  tensor->set_datatype(input.datatype);
  for (int64_t d : input.shape) tensor->add_shape(d);
  if (spec.typed) {
    tensor->mutable_contents()->mutable_fp32_contents()->Add(input.data.begin(), input.data.end());
  } else {
    std::string* raw = request.add_raw_input_contents();
    raw->resize(input.data.size() * sizeof(float));
    if (!input.data.empty()) std::memcpy(raw->data(), input.data.data(), raw->size());
  }
  return request;
}

absl::StatusOr<InferResult> ParseInferResponse(const inference::ModelInferResponse& response) {
  InferResult result;
  result.model_name = response.model_name();
  result.model_version = response.model_version();
  result.id = response.id();
  const bool raw = response.raw_output_contents_size() > 0;
  if (raw && response.raw_output_contents_size() != response.outputs_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("response has ", response.outputs_size(), " outputs but ",
                     response.raw_output_contents_size(), " raw_output_contents"));
  }
  for (int i = 0; i < response.outputs_size(); ++i) {
    const auto& out = response.outputs(i);
    Tensor tensor;
    tensor.name = out.name();
    tensor.datatype = out.datatype();
    tensor.shape.assign(out.shape().begin(), out.shape().end());
    if (out.datatype() != "FP32") {
      return absl::UnimplementedError(absl::StrCat("output '", out.name(), "': datatype ",
                                                   out.datatype(), ", only FP32 is supported"));
    }
    absl::StatusOr<int64_t> count = ElementCount(tensor.shape);
    if (!count.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("output '", out.name(), "': ", count.status().message()));
    }
    if (raw) {
      const std::string& bytes = response.raw_output_contents(i);
      if (bytes.size() != static_cast<size_t>(*count) * sizeof(float)) {
        return absl::InvalidArgumentError(
            absl::StrCat("output '", out.name(), "': shape ", ShapeString(tensor.shape), " needs ",
                         *count * sizeof(float), " raw bytes, have ", bytes.size()));
      }
      tensor.data.resize(*count);
      if (*count > 0) std::memcpy(tensor.data.data(), bytes.data(), bytes.size());
    } else {
      const auto& values = out.contents().fp32_contents();
      if (values.size() != *count) {
        return absl::InvalidArgumentError(absl::StrCat("output '", out.name(), "': shape ",
                                                       ShapeString(tensor.shape), " needs ", *count,
                                                       " fp32_contents, have ", values.size()));
      }
      tensor.data.assign(values.begin(), values.end());
    }
    result.outputs.push_back(std::move(tensor));
  }
  return result;
}

absl::StatusOr<InputSignature> InputSignatureFromMetadata(
    const inference::ModelMetadataResponse& metadata) {
  if (metadata.inputs_size() != 1) {
    return absl::FailedPreconditionError(absl::StrCat("model '", metadata.name(), "' has ",
                                                      metadata.inputs_size(),
                                                      " inputs; the client supports exactly 1"));
  }
  const auto& in = metadata.inputs(0);
  if (in.datatype() != "FP32") {
    return absl::FailedPreconditionError(absl::StrCat("model '", metadata.name(), "' input '",
                                                      in.name(), "' is ", in.datatype(),
                                                      "; the client supports FP32"));
  }
  if (in.shape_size() != 2 || in.shape(1) <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", metadata.name(), "' input '", in.name(), "' has shape [",
                     absl::StrJoin(in.shape(), ", "), "]; expected [N, features]"));
  }
  return InputSignature{in.name(), in.shape(1)};
}

absl::StatusOr<Tensor> RandomInput(const std::string& name, int64_t rows, int64_t features,
                                   uint64_t seed) {
  if (rows < 1 || features < 1) {
    return absl::InvalidArgumentError(absl::StrCat("random input '", name, "': ", rows, " rows of ",
                                                   features, " features; both must be >= 1"));
  }
  if (rows > kMaxElements / features) {
    return absl::InvalidArgumentError(absl::StrCat(
        "random input '", name, "': ", rows, " rows of ", features, " features are more than ",
        kMaxElements, " values (more than a message can carry)"));
  }
  Tensor t;
  t.name = name;
  t.shape = {rows, features};
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  t.data.resize(static_cast<size_t>(rows * features));
  for (float& v : t.data) v = dist(rng);
  return t;
}

}  // namespace mlpserve::client

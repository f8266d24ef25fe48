// ONNX helpers for the importer: decoding constant tensors (graph
// initializers and Constant nodes) into float buffers, with every size
// bounds-checked since the bytes may be hostile; node attributes; shapes.
//
// Internal to the importer (onnx_chain.cc). Free functions; thread-safe.
#ifndef MLPSERVE_SERVER_MODEL_ONNX_TENSORS_H_
#define MLPSERVE_SERVER_MODEL_ONNX_TENSORS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "onnx/onnx_pb.h"

namespace mlpserve {

// Largest constant tensor accepted, in elements (1 GiB of floats).
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 28;

// A dense float tensor, row-major.
struct FloatTensor {
  std::vector<int64_t> dims;  // empty for a scalar
  std::vector<float> values;  // product(dims) elements

  int64_t rank() const { return static_cast<int64_t>(dims.size()); }
};

// Decodes a FLOAT TensorProto stored as raw_data (little-endian) or
// float_data. INVALID_ARGUMENT, naming the tensor, for another data type,
// external data, negative or overflowing dims, or a data length that does not
// match the dims. `tensor_name` is used in messages (the proto's own name
// may be empty for Constant attributes).
absl::StatusOr<FloatTensor> DecodeFloatTensor(const onnx::TensorProto& tensor,
                                              const std::string& tensor_name);

// The tensor a Constant node produces (attribute value, value_float or
// value_floats). INVALID_ARGUMENT naming the node for anything else.
absl::StatusOr<FloatTensor> DecodeConstantNode(const onnx::NodeProto& node);

// A one-element BOOL TensorProto (raw_data or int32_data), e.g. Dropout's
// training_mode. INVALID_ARGUMENT naming the tensor for anything else.
absl::StatusOr<bool> DecodeBoolScalar(const onnx::TensorProto& tensor,
                                      const std::string& tensor_name);

// The values of an INT64 TensorProto of rank 0 or 1 with at most
// `max_elements` values (raw_data little-endian, or int64_data; not both), e.g.
// Reshape's shape. INVALID_ARGUMENT naming the tensor for anything else.
absl::StatusOr<std::vector<int64_t>> DecodeInt64Vector(const onnx::TensorProto& tensor,
                                                       const std::string& tensor_name,
                                                       int64_t max_elements);

// Broadcasts a per-unit vector (PRelu slope, Gemm C, Add bias) to `n` values:
// a single value (scalar, [1], [1, 1]), [n] or [1, n]. Empty on other shapes.
std::vector<float> BroadcastRow(const FloatTensor& t, int64_t n);

// "[2, 3]".
std::string ShapeString(const std::vector<int64_t>& dims);

// The attribute `name` of `node`, or nullptr.
const onnx::AttributeProto* FindAttribute(const onnx::NodeProto& node, absl::string_view name);
// Its f / i value, or `fallback` when the node does not set it. An
// attribute of another type (a FLOAT transB, an INT alpha: files that
// onnx.checker refuses) is an InvalidArgument error naming the attribute; the
// caller adds the node.
absl::StatusOr<float> FloatAttribute(const onnx::NodeProto& node, absl::string_view name,
                                     float fallback);
absl::StatusOr<int64_t> IntAttribute(const onnx::NodeProto& node, absl::string_view name,
                                     int64_t fallback);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_MODEL_ONNX_TENSORS_H_

// Decoding ONNX constant tensors (graph initializers and Constant nodes) into
// float buffers, with every size bounds-checked: the bytes may be hostile.
//
// Internal to the importer (onnx_import.cc). Free functions; thread-safe.
#ifndef MLPSERVE_SERVER_MODEL_ONNX_TENSORS_H_
#define MLPSERVE_SERVER_MODEL_ONNX_TENSORS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
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

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_MODEL_ONNX_TENSORS_H_

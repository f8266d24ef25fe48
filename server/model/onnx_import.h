// ONNX -> Mlp import.
//
// Accepts the graphs torch.onnx.export writes for nn.Sequential MLPs, opsets
// 9 to 17: Gemm (alpha, beta, transB 0/1, transA 0), MatMul followed by Add,
// LeakyRelu (alpha, default 0.01), PRelu (slope scalar, [C] or [1, C]), Relu,
// Sigmoid, Tanh, Softmax (last axis), and Flatten / Identity / Dropout as
// no-ops (Dropout only with no training_mode or a constant false one).
// Initializers may be stored as raw_data or float_data, may also come from
// Constant nodes, and may reach their node through Identity nodes. The input's batch dimension may
// be symbolic or fixed. Anything else is an error that names the node, its op type and the source
// (file path); malformed bytes are an error, never a crash.
//
// Free functions; thread-safe.
#ifndef MLPSERVE_SERVER_MODEL_ONNX_IMPORT_H_
#define MLPSERVE_SERVER_MODEL_ONNX_IMPORT_H_

#include <climits>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/model/mlp.h"

namespace onnx {
class ModelProto;
}

namespace mlpserve {

// Largest model.onnx read: protobuf parses at most 2 GiB - 1 bytes. Checked
// from the file's size before a byte is allocated.
inline constexpr uintmax_t kMaxOnnxFileBytes = INT_MAX;

// Reads and imports the file at `path`; errors name it. NOT_FOUND when it is
// missing, INVALID_ARGUMENT when it is not a regular file (a directory, a
// FIFO, a symbolic link to nothing), is larger than kMaxOnnxFileBytes (with
// its size and the limit) or is not a servable MLP, UNAVAILABLE or
// RESOURCE_EXHAUSTED when it cannot be read now (ReadRegularFile).
absl::StatusOr<Mlp> ImportOnnxFile(const std::string& path);

// Imports serialized ModelProto bytes; `source` names them in errors.
absl::StatusOr<Mlp> ImportOnnxBytes(absl::string_view bytes, absl::string_view source);

// Imports a parsed model; `source` names it in errors.
absl::StatusOr<Mlp> ImportOnnxModel(const onnx::ModelProto& model, absl::string_view source);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_MODEL_ONNX_IMPORT_H_

#include "server/model/onnx_import.h"

#include <climits>
#include <exception>

#include "absl/strings/str_cat.h"
#include "onnx/onnx_pb.h"
#include "server/common/read_file.h"

namespace mlpserve {

// ImportOnnxModel lives in onnx_chain.cc.

absl::StatusOr<Mlp> ImportOnnxBytes(absl::string_view bytes, absl::string_view source) {
  if (bytes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": the file is empty (0 bytes)"));
  }
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": file too large for protobuf"));
  }
  onnx::ModelProto model;
  bool parsed = false;
  try {
    parsed = model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not an ONNX model (", e.what(), ")"));
  }
  if (!parsed) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not an ONNX model (protobuf parse failed)"));
  }
  // Bytes that happen to parse as some other message (or a file cut short
  // before its graph) have no graph: say that, not what the graph lacks.
  if (!model.has_graph()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not an ONNX model (no graph; a truncated or foreign file?)"));
  }
  return ImportOnnxModel(model, source);
}

absl::StatusOr<Mlp> ImportOnnxFile(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadRegularFile(path, kMaxOnnxFileBytes);
  if (!bytes.ok()) {
    return absl::Status(
        bytes.status().code(),
        absl::StrCat(path, ": cannot read the ONNX file: ", bytes.status().message()));
  }
  return ImportOnnxBytes(*bytes, path);
}

}  // namespace mlpserve

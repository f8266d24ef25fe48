// JSON in and out of the CLI: the input file format, and the JSON printed
// for inference results and model metadata.
//
// Input file, either of two forms (FP32 values, any JSON number):
//   {"inputs": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]}   one array per row
//   {"data": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], "shape": [2, 3]}   flat, row-major
// Both give a tensor of shape [N, F]. Rows must all have F > 0 values; N > 0.
// A value beyond FP32's finite range (|x| > 3.4028235e38) is an error, not Inf.
#ifndef MLPSERVE_CLIENT_LIB_TENSOR_JSON_H_
#define MLPSERVE_CLIENT_LIB_TENSOR_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/lib/infer_codec.h"
#include "nlohmann/json.hpp"
#include "proto/inference.pb.h"

namespace mlpserve::client {

// `j` as text, indented by `indent` spaces (-1: one line). Strings that are
// not valid UTF-8 (a server's message, a model name, a request id; nlohmann's
// dump() would throw type_error 316 and terminate the CLI) are printed with
// U+FFFD in place of each invalid byte. Every JSON the CLI prints or writes
// goes through here.
std::string DumpJson(const nlohmann::json& j, int indent = -1);

// Parses the input format above into an unnamed FP32 tensor of shape [N, F].
// `source` (e.g. the file name) prefixes every error message, which also
// says where the problem is ("row 2, column 1 is not a number").
absl::StatusOr<Tensor> ParseInputJson(absl::string_view text, absl::string_view source = "input");

// Reads `path` and parses it with ParseInputJson.
absl::StatusOr<Tensor> ReadInputJsonFile(const std::string& path);

// {"model_name", "model_version", "id",
//  "outputs": [{"name", "datatype", "shape", "data": [...]}]}
// Floats print in their shortest round-tripping FP32 form (0.1, not
// 0.100000001490116); NaN and infinities, which JSON cannot hold, as the
// strings "NaN", "Infinity" and "-Infinity".
nlohmann::json InferResultToJson(const InferResult& result);

// {"name", "versions", "platform", "inputs": [{"name", "datatype", "shape"}],
//  "outputs": [...]} with shapes as JSON integers.
nlohmann::json MetadataToJson(const inference::ModelMetadataResponse& metadata);

}  // namespace mlpserve::client

#endif  // MLPSERVE_CLIENT_LIB_TENSOR_JSON_H_

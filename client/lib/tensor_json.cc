#include "client/lib/tensor_json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace mlpserve::client {
namespace {

using nlohmann::json;

absl::Status Bad(absl::string_view source, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", what));
}

// `value` as FP32, or an error naming `where` when it is not a number or
// beyond FP32's finite range (a silent Inf would reach the model).
absl::StatusOr<float> ToFloat(const json& value, absl::string_view source,
                              absl::string_view where) {
  if (!value.is_number()) return Bad(source, absl::StrCat(where, " is not a number"));
  const double d = value.get<double>();
  // Values that round to FLT_MAX (3.4028235e38, as FLT_MAX prints) are fine.
  if (!std::isfinite(static_cast<float>(d))) {
    return Bad(source, absl::StrCat(where, " (", DumpJson(value),
                                    ") is beyond FP32's range (|x| <= 3.4028235e38)"));
  }
  return static_cast<float>(d);
}

absl::StatusOr<Tensor> ParseRows(const json& rows, absl::string_view source) {
  if (!rows.is_array() || rows.empty()) {
    return Bad(source, "\"inputs\" must be a non-empty array of rows");
  }
  Tensor t;
  size_t features = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    const json& row = rows[r];
    if (!row.is_array() || row.empty()) {
      return Bad(source, absl::StrCat("row ", r, " must be a non-empty array of numbers"));
    }
    if (r == 0) features = row.size();
    if (row.size() != features) {
      return Bad(source,
                 absl::StrCat("row ", r, " has ", row.size(), " values, row 0 has ", features));
    }
    for (size_t c = 0; c < row.size(); ++c) {
      absl::StatusOr<float> v = ToFloat(row[c], source, absl::StrCat("row ", r, ", column ", c));
      if (!v.ok()) return v.status();
      t.data.push_back(*v);
    }
  }
  t.shape = {static_cast<int64_t>(rows.size()), static_cast<int64_t>(features)};
  return t;
}

absl::StatusOr<Tensor> ParseFlat(const json& doc, absl::string_view source) {
  const json& shape = doc["shape"];
  if (!shape.is_array() || shape.size() != 2 || !shape[0].is_number_integer() ||
      !shape[1].is_number_integer() || shape[0].get<int64_t>() <= 0 ||
      shape[1].get<int64_t>() <= 0) {
    return Bad(source, "\"shape\" must be [N, F] with positive integers");
  }
  const json& data = doc["data"];
  if (!data.is_array()) return Bad(source, "\"data\" must be an array of numbers");
  Tensor t;
  t.shape = {shape[0].get<int64_t>(), shape[1].get<int64_t>()};
  if (t.shape[1] > std::numeric_limits<int64_t>::max() / t.shape[0]) {
    return Bad(source, absl::StrCat("\"shape\" [", t.shape[0], ", ", t.shape[1],
                                    "] has more elements than an int64 counts"));
  }
  const auto expected = static_cast<size_t>(t.shape[0] * t.shape[1]);
  if (data.size() != expected) {
    return Bad(source, absl::StrCat("\"data\" has ", data.size(), " values, shape [", t.shape[0],
                                    ", ", t.shape[1], "] needs ", expected));
  }
  t.data.reserve(expected);
  for (size_t i = 0; i < data.size(); ++i) {
    absl::StatusOr<float> v = ToFloat(data[i], source, absl::StrCat("\"data\"[", i, "]"));
    if (!v.ok()) return v.status();
    t.data.push_back(*v);
  }
  return t;
}

// A float as JSON: the double whose shortest decimal form is the float's
// shortest form, or, since JSON has no NaN or infinity, the strings
// "NaN", "Infinity", "-Infinity" (protobuf's JSON mapping of floats).
json FloatJson(float v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf) - 1, v);
  if (ec != std::errc()) return static_cast<double>(v);
  *end = '\0';
  return std::strtod(buf, nullptr);
}

json TensorMetaToJson(const inference::ModelMetadataResponse::TensorMetadata& t) {
  return {{"name", t.name()},
          {"datatype", t.datatype()},
          {"shape", std::vector<int64_t>(t.shape().begin(), t.shape().end())}};
}

}  // namespace

std::string DumpJson(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<Tensor> ParseInputJson(absl::string_view text, absl::string_view source) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Bad(source, "not valid JSON");
  if (!doc.is_object()) return Bad(source, "top level must be a JSON object");
  const bool has_rows = doc.contains("inputs");
  const bool has_flat = doc.contains("data") || doc.contains("shape");
  if (has_rows && has_flat) {
    return Bad(source, "give either \"inputs\" or \"data\"+\"shape\", not both");
  }
  if (has_rows) return ParseRows(doc["inputs"], source);
  if (doc.contains("data") && doc.contains("shape")) return ParseFlat(doc, source);
  return Bad(source, "expected {\"inputs\": [[...], ...]} or {\"data\": [...], \"shape\": [N, F]}");
}

absl::StatusOr<Tensor> ReadInputJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream text;
  text << in.rdbuf();
  return ParseInputJson(text.str(), path);
}

json InferResultToJson(const InferResult& result) {
  json outputs = json::array();
  for (const Tensor& t : result.outputs) {
    json data = json::array();
    for (float v : t.data) data.push_back(FloatJson(v));
    outputs.push_back({{"name", t.name},
                       {"datatype", t.datatype},
                       {"shape", t.shape},
                       {"data", std::move(data)}});
  }
  return {{"model_name", result.model_name},
          {"model_version", result.model_version},
          {"id", result.id},
          {"outputs", std::move(outputs)}};
}

json MetadataToJson(const inference::ModelMetadataResponse& metadata) {
  json inputs = json::array();
  for (const auto& t : metadata.inputs()) inputs.push_back(TensorMetaToJson(t));
  json outputs = json::array();
  for (const auto& t : metadata.outputs()) outputs.push_back(TensorMetaToJson(t));
  return {{"name", metadata.name()},
          {"versions",
           std::vector<std::string>(metadata.versions().begin(), metadata.versions().end())},
          {"platform", metadata.platform()},
          {"inputs", std::move(inputs)},
          {"outputs", std::move(outputs)}};
}

}  // namespace mlpserve::client

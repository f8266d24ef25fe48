#include "server/rpc/infer_parameters.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/common/utf8.h"

namespace mlpserve {
namespace {

using Parameters = google::protobuf::Map<std::string, inference::InferParameter>;

constexpr const char* kSharedMemory[] = {"shared_memory_region", "shared_memory_byte_size",
                                         "shared_memory_offset"};

// "model 'm' input 'x'", "model 'm' output 'y'" or "model 'm'".
std::string Where(const TensorContract& c, absl::string_view kind, absl::string_view tensor) {
  if (kind.empty()) return absl::StrCat("model '", c.model, "'");
  return absl::StrCat("model '", c.model, "' ", kind, " '", ClientText(tensor), "'");
}

absl::Status Refused(absl::string_view where, absl::string_view name, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": parameter '", name, "' is not supported: ", why));
}

absl::Status RefuseSharedMemory(const Parameters& parameters, absl::string_view where) {
  for (const char* name : kSharedMemory) {
    if (parameters.contains(name)) {
      return Refused(where, name,
                     "mlpserve has no shared-memory extension; send the tensor in the request "
                     "and read it from the response");
    }
  }
  return absl::OkStatus();
}

// The integer value of `name` (int64_param, or uint64_param up to INT64_MAX),
// or `fallback` when the request does not set it.
absl::StatusOr<int64_t> IntegerParameter(const Parameters& parameters, const char* name,
                                         int64_t fallback, const TensorContract& c) {
  auto it = parameters.find(name);
  if (it == parameters.end()) return fallback;
  const inference::InferParameter& value = it->second;
  if (value.parameter_choice_case() == inference::InferParameter::kInt64Param) {
    return value.int64_param();
  }
  if (value.parameter_choice_case() == inference::InferParameter::kUint64Param &&
      value.uint64_param() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(value.uint64_param());
  }
  return absl::InvalidArgumentError(absl::StrCat(Where(c, "", ""), ": parameter '", name,
                                                 "' must be an int64_param or uint64_param"));
}

// OK when the sequence parameters, if any, say "not a sequence", as Triton
// reads them: sequence_id 0 (int) or "" (string), sequence_start and
// sequence_end false. A sequence is refused: mlpserve has no sequence
// batching.
absl::Status CheckNoSequence(const Parameters& parameters, const TensorContract& c) {
  constexpr const char* kStateless = "mlpserve has no sequence batching (its models are stateless)";
  if (auto it = parameters.find("sequence_id"); it != parameters.end()) {
    const inference::InferParameter& id = it->second;
    switch (id.parameter_choice_case()) {
      case inference::InferParameter::kInt64Param:
        if (id.int64_param() != 0) return Refused(Where(c, "", ""), "sequence_id", kStateless);
        break;
      case inference::InferParameter::kUint64Param:
        if (id.uint64_param() != 0) return Refused(Where(c, "", ""), "sequence_id", kStateless);
        break;
      case inference::InferParameter::kStringParam:
        if (!id.string_param().empty()) {
          return Refused(Where(c, "", ""), "sequence_id", kStateless);
        }
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat(
            Where(c, "", ""),
            ": parameter 'sequence_id' must be an int64_param, uint64_param or string_param"));
    }
  }
  for (const char* name : {"sequence_start", "sequence_end"}) {
    auto it = parameters.find(name);
    if (it == parameters.end()) continue;
    if (it->second.parameter_choice_case() != inference::InferParameter::kBoolParam) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(c, "", ""), ": parameter '", name, "' must be a bool_param"));
    }
    if (it->second.bool_param()) return Refused(Where(c, "", ""), name, kStateless);
  }
  return absl::OkStatus();
}

absl::Status CheckRequestParameters(const Parameters& parameters, const TensorContract& c,
                                    InferParameters* out) {
  if (absl::Status s = CheckNoSequence(parameters, c); !s.ok()) return s;
  // 0 (or absent): no timeout, as Triton reads it.
  absl::StatusOr<int64_t> timeout_us = IntegerParameter(parameters, "timeout", 0, c);
  if (!timeout_us.ok()) return timeout_us.status();
  if (*timeout_us < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(c, "", ""), ": parameter 'timeout' must be a number of microseconds (0: none), got ",
        *timeout_us));
  }
  if (*timeout_us > 0) out->timeout = absl::Microseconds(*timeout_us);
  absl::StatusOr<int64_t> priority = IntegerParameter(parameters, "priority", 0, c);
  if (!priority.ok()) return priority.status();
  if (*priority < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(c, "", ""), ": parameter 'priority' must not be negative, got ", *priority));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<InferParameters> ReadInferParameters(const inference::ModelInferRequest& request,
                                                    const TensorContract& c) {
  InferParameters out;
  if (!request.parameters().empty()) {
    if (absl::Status s = CheckRequestParameters(request.parameters(), c, &out); !s.ok()) return s;
  }
  for (const auto& input : request.inputs()) {
    if (input.parameters().empty()) continue;
    if (absl::Status s = RefuseSharedMemory(input.parameters(), Where(c, "input", input.name()));
        !s.ok()) {
      return s;
    }
  }
  for (const auto& output : request.outputs()) {
    if (output.parameters().empty()) continue;
    const std::string where = Where(c, "output", output.name());
    if (absl::Status s = RefuseSharedMemory(output.parameters(), where); !s.ok()) return s;
    if (output.parameters().contains("classification")) {
      return Refused(where, "classification",
                     "mlpserve returns the output tensor as it is; take the top classes from "
                     "it on the client");
    }
  }
  return out;
}

}  // namespace mlpserve

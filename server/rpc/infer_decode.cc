#include "server/rpc/infer_decode.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/utf8.h"
#include "server/rpc/infer_parameters.h"

namespace mlpserve {
namespace {

using Input = inference::ModelInferRequest::InferInputTensor;

// What a request may carry besides its input values: names, shape, id,
// parameters. More is padding that would sit in memory for as long as the
// request queues (and `id` is copied into the response).
constexpr size_t kMaxNonTensorBytes = 64 * 1024;

absl::Status Invalid(const TensorContract& c, absl::string_view tensor, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("model '", c.model, "' version ", c.version,
                                                 " input '", ClientText(tensor), "': ", what));
}

bool HasOtherTypedContents(const inference::InferTensorContents& c) {
  return c.bool_contents_size() || c.int_contents_size() || c.int64_contents_size() ||
         c.uint_contents_size() || c.uint64_contents_size() || c.fp64_contents_size() ||
         c.bytes_contents_size();
}

// "[2, 16]": for error messages only (never formatted on the success path);
// a rank over 8 is cut short ("[1, 1, ..., 1, 1, ...] (rank 3000)").
std::string ShapeString(const Input& input) {
  constexpr int kMaxDims = 8;
  const auto& shape = input.shape();
  if (shape.size() <= kMaxDims) return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
  return absl::StrCat("[", absl::StrJoin(shape.begin(), shape.begin() + kMaxDims, ", "),
                      ", ...] (rank ", shape.size(), ")");
}

absl::StatusOr<int64_t> CheckShape(const Input& input, const TensorContract& c) {
  if (input.datatype() != "FP32") {
    return Invalid(c, input.name(),
                   absl::StrCat("datatype must be FP32, got '", ClientText(input.datatype()), "'"));
  }
  if (input.shape_size() != 2) {
    return Invalid(c, input.name(),
                   absl::StrCat("shape must be [N, ", c.input_features, "] (rank 2), got ",
                                ShapeString(input)));
  }
  const int64_t rows = input.shape(0);
  const int64_t features = input.shape(1);
  if (rows <= 0 || features <= 0) {
    return Invalid(c, input.name(),
                   absl::StrCat("dims must be positive, got ", ShapeString(input)));
  }
  if (features != c.input_features) {
    return Invalid(c, input.name(),
                   absl::StrCat("expected ", c.input_features, " features per row, got shape ",
                                ShapeString(input)));
  }
  if (rows > c.max_batch_size) {
    return Invalid(c, input.name(),
                   absl::StrCat(rows, " rows exceed max_batch_size ", c.max_batch_size));
  }
  return rows;
}

absl::StatusOr<absl::string_view> InputBytes(const inference::ModelInferRequest& request,
                                             const TensorContract& c, int64_t rows) {
  const Input& input = request.inputs(0);
  const size_t want = static_cast<size_t>(rows * c.input_features) * sizeof(float);
  const bool typed = input.has_contents() && (input.contents().fp32_contents_size() > 0 ||
                                              HasOtherTypedContents(input.contents()));
  if (request.raw_input_contents_size() > 0) {
    if (typed) {
      return Invalid(c, input.name(),
                     "both raw_input_contents and typed contents are set; send one of them");
    }
    if (request.raw_input_contents_size() != 1) {
      return Invalid(c, input.name(),
                     absl::StrCat("expected 1 raw_input_contents entry (one per input), got ",
                                  request.raw_input_contents_size()));
    }
    const std::string& raw = request.raw_input_contents(0);
    if (raw.size() != want) {
      return Invalid(c, input.name(),
                     absl::StrCat("raw contents hold ", raw.size(), " bytes, shape needs ", want,
                                  " (", rows, " x ", c.input_features, " FP32)"));
    }
    return absl::string_view(raw);
  }
  if (HasOtherTypedContents(input.contents())) {
    return Invalid(c, input.name(), "typed contents must be fp32_contents for FP32");
  }
  const auto& values = input.contents().fp32_contents();
  if (static_cast<size_t>(values.size()) * sizeof(float) != want) {
    return Invalid(c, input.name(),
                   absl::StrCat("fp32_contents hold ", values.size(), " values, shape needs ",
                                rows * c.input_features));
  }
  return absl::string_view(reinterpret_cast<const char*>(values.data()), want);
}

// An FP32 value whose exponent bits are all ones is NaN or infinity.
constexpr uint32_t kExponentBits = 0x7f800000u;

uint32_t Bits(absl::string_view bytes, size_t value) {
  uint32_t bits;
  std::memcpy(&bits, bytes.data() + value * sizeof(bits), sizeof(bits));
  return bits;
}

absl::Status CheckFinite(absl::string_view bytes, const TensorContract& c) {
  // One branch-free pass (vectorised) over every value; the position of the
  // first non-finite one is looked for only once there is one.
  const size_t values = bytes.size() / sizeof(float);
  uint32_t any = 0;
  for (size_t i = 0; i < values; ++i) {
    any |= static_cast<uint32_t>((Bits(bytes, i) & kExponentBits) == kExponentBits);
  }
  if (any == 0) return absl::OkStatus();
  size_t first = 0;
  while ((Bits(bytes, first) & kExponentBits) != kExponentBits) ++first;
  return Invalid(c, c.input_name,
                 absl::StrCat("value ", first, " is not finite and ", c.non_finite_reason));
}

}  // namespace

absl::StatusOr<DecodedInput> DecodeInferRequest(const inference::ModelInferRequest& request,
                                                const TensorContract& c) {
  if (request.inputs_size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", c.model, "' takes 1 input ('", c.input_name, "'), got ", request.inputs_size()));
  }
  const Input& input = request.inputs(0);
  if (input.name() != c.input_name) {
    return absl::InvalidArgumentError(absl::StrCat("model '", c.model, "' has no input '",
                                                   ClientText(input.name()), "'; expected '",
                                                   c.input_name, "'"));
  }
  if (request.outputs_size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat("model '", c.model, "' has 1 output ('",
                                                   c.output_name, "'); the request asks for ",
                                                   request.outputs_size()));
  }
  for (const auto& output : request.outputs()) {
    if (output.name() != c.output_name) {
      return absl::InvalidArgumentError(absl::StrCat("model '", c.model, "' has no output '",
                                                     ClientText(output.name()), "'; it has '",
                                                     c.output_name, "'"));
    }
  }
  // Parameters first: a request whose tensors are in shared memory (or that
  // asks for a sequence) carries no contents, and is told so rather than
  // that its contents are missing.
  absl::StatusOr<InferParameters> parameters = ReadInferParameters(request, c);
  if (!parameters.ok()) return parameters.status();
  absl::StatusOr<int64_t> rows = CheckShape(input, c);
  if (!rows.ok()) return rows.status();
  absl::StatusOr<absl::string_view> bytes = InputBytes(request, c, *rows);
  if (!bytes.ok()) return bytes.status();
  if (const size_t total = request.ByteSizeLong(); total > bytes->size() + kMaxNonTensorBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", c.model, "': the request is ", total, " bytes, of which ",
                     bytes->size(), " are input values; at most ", kMaxNonTensorBytes,
                     " bytes of id, parameters and other fields are accepted"));
  }
  if (c.reject_non_finite) {
    if (absl::Status s = CheckFinite(*bytes, c); !s.ok()) return s;
  }
  return DecodedInput{*rows, *bytes, parameters->timeout};
}

}  // namespace mlpserve

// Validation of a ModelInferRequest against the model it names, yielding a
// view on the input rows. Pure function: no allocation of tensor data, no
// side effects; the fuzz target for the request decoder calls it directly.
#ifndef MLPSERVE_SERVER_RPC_INFER_DECODE_H_
#define MLPSERVE_SERVER_RPC_INFER_DECODE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/inference.pb.h"

namespace mlpserve {

// What a request must look like, from the model's complete config.
// Views: the strings belong to the model's config and outlive the call.
struct TensorContract {
  absl::string_view model;    // model name, for messages
  absl::string_view version;  // version, for messages
  absl::string_view input_name;
  absl::string_view output_name;
  int64_t input_features = 0;
  int64_t max_batch_size = 0;
  // Refuse NaN and infinity in the input, because of `non_finite_reason`.
  bool reject_non_finite = false;
  absl::string_view non_finite_reason = "the model sets reject_non_finite";
};

struct DecodedInput {
  int64_t rows = 0;
  // rows * input_features little-endian FP32 values; a view on `request`.
  absl::string_view bytes;
  // The request's "timeout" parameter (server/rpc/infer_parameters.h).
  absl::Duration timeout = absl::InfiniteDuration();
};

// INVALID_ARGUMENT, naming the tensor and saying what was expected and what
// came, for: not exactly one input, an unknown input name, a datatype other
// than FP32, rank != 2, zero or negative dims, a feature count other than
// the model's, more rows than max_batch_size, raw and typed contents
// together, raw bytes or typed values that do not match the shape, an
// unknown requested output or more than one, and more than 64 KiB of
// anything besides the input values (id, parameters, unknown fields); and
// for parameters ReadInferParameters refuses. The returned view lives as
// long as `request`.
absl::StatusOr<DecodedInput> DecodeInferRequest(const inference::ModelInferRequest& request,
                                                const TensorContract& contract);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_RPC_INFER_DECODE_H_

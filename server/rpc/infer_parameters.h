// The parameters of a ModelInferRequest (the request's, its input's and its
// requested output's maps), by their KServe v2 / Triton names. mlpserve
// honours what it implements, refuses what would change the answer if it
// were ignored, and ignores the rest, as Triton leaves custom parameters to
// backends that may ignore them:
//
//   request "timeout"        int64 microseconds (0: as if not sent, as
//                            Triton reads it: the model's default
//                            applies); above 0, a request that has not
//                            started computing within it is answered
//                            DEADLINE_EXCEEDED (Triton's queue timeout;
//                            a model's dynamic_batching.default_queue_policy
//                            may bound or ignore it: QueueTimeout in
//                            server/model/model_config.h); the client's gRPC
//                            deadline still applies
//   request "priority"       int64 >= 0: accepted; mlpserve has one
//                            priority level
//   request "sequence_id", "sequence_start", "sequence_end":
//                            refused when they ask for a sequence (id
//                            other than 0 or "", or start / end true): no
//                            sequence batching (the models are stateless);
//                            Triton's "not a sequence" (id 0 or "", start
//                            and end false) is accepted
//   input/output "shared_memory_region", "shared_memory_byte_size",
//   "shared_memory_offset":  refused: no shared-memory extension
//   output "classification": refused: the output tensor is returned as is
//   request "binary_data_output", input "binary_data_size", output
//   "binary_data":           accepted: HTTP/REST transport hints (gRPC
//                            carries tensors as bytes anyway)
//
// A name it reads ("timeout", "priority", "sequence_*") with a value of
// another type (sequence_id: int64, uint64 or string; start, end: bool) is
// refused too. Every refusal is INVALID_ARGUMENT naming the model, the
// tensor when there is one, and the parameter.
#ifndef MLPSERVE_SERVER_RPC_INFER_PARAMETERS_H_
#define MLPSERVE_SERVER_RPC_INFER_PARAMETERS_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/inference.pb.h"
#include "server/rpc/infer_decode.h"

namespace mlpserve {

struct InferParameters {
  // "timeout": how long the request may wait to start computing.
  absl::Duration timeout = absl::InfiniteDuration();
};

absl::StatusOr<InferParameters> ReadInferParameters(const inference::ModelInferRequest& request,
                                                    const TensorContract& contract);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_RPC_INFER_PARAMETERS_H_

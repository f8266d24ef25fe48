// mlpserve's completed model configuration as Triton's ModelConfig, the
// answer of the ModelConfig RPC (Triton's model configuration extension).
//
// Input: a config as CompleteModelConfig returns it (every default and
// graph-derived field filled in). Mapping:
//   name, platform, max_batch_size, input/output {name, data_type, dims},
//   version_policy                    -> the same Triton fields
//   dynamic_batching {max_queue_delay_microseconds, preferred_batch_size}
//                                     -> dynamic_batching, same fields
//   dynamic_batching.max_queue_size   -> dynamic_batching.default_queue_policy
//                                        .max_queue_size (Triton's is 32-bit:
//                                        larger values report 4294967295)
//   dynamic_batching.default_queue_policy {timeout_action,
//   default_timeout_microseconds, allow_timeout_override}
//                                     -> the same fields
//   instance_count                    -> one instance_group {count, KIND_CPU}
//   threads_per_instance, reject_non_finite, activation_stats.{enabled,
//   sample_every, dead_window_rows}   -> parameters, as decimal or
//                                        "true"/"false" text
// A config without dynamic_batching reports none, as Triton does for a
// model whose requests each run alone.
//
// Pure function; thread-safe.
#ifndef MLPSERVE_SERVER_RPC_TRITON_CONFIG_H_
#define MLPSERVE_SERVER_RPC_TRITON_CONFIG_H_

#include "proto/inference.pb.h"
#include "proto/model_config.pb.h"

namespace mlpserve {

inference::ModelConfig ToTritonModelConfig(const ModelConfig& config);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_RPC_TRITON_CONFIG_H_

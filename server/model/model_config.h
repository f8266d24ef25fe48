// config.pbtxt: reading it, and completing it from the model's graph.
//
// A config is mlpserve::ModelConfig (proto/model_config.proto) in protobuf
// text format. Every field is optional; CompleteModelConfig fills what is
// missing from the Mlp (tensor names and dims) and the documented defaults
// (max_batch_size 64, instance_count 1, threads_per_instance 1,
// activation_stats enabled with sample_every 1 and dead_window_rows 1000,
// dynamic_batching.max_queue_size 1024 when dynamic_batching is present,
// version_policy latest { num_versions: 1 } when no policy is chosen or
// num_versions is 0), and refuses a config that contradicts the graph.
// Inputs/outputs: at most one each; an omitted name, data_type or dims is
// taken from the graph (data_type TYPE_FP32, dims [features]).
//
// data_type is Triton's DataType enum, written unquoted (data_type:
// TYPE_FP32); any type but TYPE_FP32 is refused naming the model, tensor
// and type, and a quoted value fails to parse with a hint to drop the
// quotes. max_batch_size is `optional`: absent means the default, an
// explicit 0 (Triton's "no batch dimension") is refused.
//
// Free functions; thread-safe.
#ifndef MLPSERVE_SERVER_MODEL_MODEL_CONFIG_H_
#define MLPSERVE_SERVER_MODEL_MODEL_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/model_config.pb.h"
#include "server/model/mlp.h"

namespace mlpserve {

inline constexpr int32_t kDefaultMaxBatchSize = 64;
inline constexpr uint64_t kDefaultMaxQueueSize = 1024;
inline constexpr uint64_t kDefaultDeadWindowRows = 1000;
// Largest max_batch_size and activation_stats.dead_window_rows accepted. The
// window bound keeps the activation tracker's per-block counts (a 64th of a
// window plus one batch) within 32 bits.
inline constexpr int32_t kMaxMaxBatchSize = 65536;
inline constexpr uint64_t kMaxDeadWindowRows = uint64_t{1} << 37;

// Largest config.pbtxt read, checked before it is read: a Triton config of
// a large ensemble is a few KiB, so 1 MiB is far beyond any real one.
inline constexpr uintmax_t kMaxConfigFileBytes = uintmax_t{1} << 20;

// Reads <model_dir>/config.pbtxt; a missing file yields an empty config with
// `name` set to `model_name` (a symbolic link to nothing is no missing file:
// it is an error). Errors name the file: INVALID_ARGUMENT (with, where
// protobuf says it, line and column) for a config.pbtxt that is not a
// regular file (a directory, a FIFO, a dangling symbolic link), is larger
// than kMaxConfigFileBytes, has text that does not parse, a name that
// differs from `model_name`, out-of-range values (max_batch_size 0 or
// negative among them), or a data_type other than TYPE_FP32; UNAVAILABLE or
// RESOURCE_EXHAUSTED when it cannot be read now (permissions, I/O errors,
// memory; see ReadRegularFile), which a later attempt may overcome.
absl::StatusOr<ModelConfig> ReadModelConfig(const std::string& model_dir,
                                            absl::string_view model_name);

// Parses config text; `source` names it in errors. Same checks as above.
absl::StatusOr<ModelConfig> ParseModelConfig(absl::string_view text, absl::string_view source,
                                             absl::string_view model_name);

// Returns `config` with every default and graph-derived field filled in;
// dynamic_batching.preferred_batch_size sorted and without duplicates (Triton
// takes them in any order). An empty platform becomes "onnxruntime_onnx"
// when backend is empty or "onnxruntime" (Triton's auto-complete for an ONNX
// model), and the backend's name otherwise (what Triton's ModelMetadata
// reports then), so that ModelMetadata and ModelConfig agree.
// INVALID_ARGUMENT when an input/output name or dims disagree with `mlp`.
absl::StatusOr<ModelConfig> CompleteModelConfig(ModelConfig config, const Mlp& mlp);

// How long a request of a model with `config` may wait in its queue, given
// the request's own "timeout" parameter (`requested`; InfiniteDuration when
// absent). Without dynamic_batching.default_queue_policy: `requested`. With
// one, as Triton: the policy's default_timeout_microseconds (0: no bound),
// which the request's own may only shorten, and only with
// allow_timeout_override (else it is ignored). Unlike Triton, a request may
// also shorten a default of 0 (no bound), rather than being ignored.
absl::Duration QueueTimeout(const ModelConfig& config, absl::Duration requested);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_MODEL_MODEL_CONFIG_H_

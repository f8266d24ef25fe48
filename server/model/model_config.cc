#include "server/model/model_config.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "server/common/read_file.h"

namespace mlpserve {
namespace {

// Triton's names for an ONNX model's platform and backend.
constexpr absl::string_view kOnnxRuntimePlatform = "onnxruntime_onnx";
constexpr absl::string_view kOnnxRuntimeBackend = "onnxruntime";
constexpr int32_t kMaxInstanceCount = 64;
constexpr int32_t kMaxThreadsPerInstance = 64;
// Bounds that keep durations and counts representable where they are used
// (absl::Duration, int): far beyond anything useful.
constexpr uint64_t kMaxQueueDelayMicroseconds = uint64_t{24} * 3600 * 1000 * 1000;  // a day
constexpr uint64_t kMaxSampleEvery = 1000 * 1000 * 1000;

// Collects TextFormat's complaints as "line:col: message" (1-based).
class CollectingErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!errors_.empty()) return;  // the first error is the useful one
    errors_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  const std::string& errors() const { return errors_; }

 private:
  std::string errors_;
};

absl::Status ConfigError(absl::string_view source, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", problem));
}

// `value` must be in [lo, hi]; 0 stands for "default" when `zero_ok`.
absl::Status CheckRange(absl::string_view source, absl::string_view field, int64_t value,
                        int64_t lo, int64_t hi, bool zero_ok) {
  if ((zero_ok && value == 0) || (value >= lo && value <= hi)) return absl::OkStatus();
  return ConfigError(source, absl::StrCat(field, " is ", value, "; expected ", lo, " to ", hi));
}

// An unsigned field must not exceed `hi`.
absl::Status CheckAtMost(absl::string_view source, absl::string_view field, uint64_t value,
                         uint64_t hi) {
  if (value <= hi) return absl::OkStatus();
  return ConfigError(source, absl::StrCat(field, " is ", value, "; expected at most ", hi));
}

// An enum value's name, or its number when it has none (text format takes
// any number for a proto3 enum).
std::string DataTypeText(int type) {
  const std::string& name = inference::DataType_Name(static_cast<inference::DataType>(type));
  return name.empty() ? std::to_string(type) : name;
}

// Folds a Triton instance_group into instance_count (see instance_group in
// proto/model_config.proto) and clears it.
absl::Status FoldInstanceGroup(ModelConfig& config, absl::string_view source) {
  if (config.instance_group_size() == 0) return absl::OkStatus();
  if (config.instance_group_size() > 1) {
    return ConfigError(source, absl::StrCat("instance_group has ", config.instance_group_size(),
                                            " groups; mlpserve runs one group of CPU instances "
                                            "(or write instance_count)"));
  }
  using Group = inference::ModelInstanceGroup;
  const Group& group = config.instance_group(0);
  if (group.kind() != Group::KIND_CPU && group.kind() != Group::KIND_AUTO) {
    const std::string& kind = Group::Kind_Name(group.kind());  // "" if unnamed
    return ConfigError(source, absl::StrCat("instance_group kind ",
                                            kind.empty() ? std::to_string(group.kind()) : kind,
                                            " is not served; mlpserve runs on CPUs (KIND_CPU)"));
  }
  if (group.gpus_size() > 0) {
    return ConfigError(source, "instance_group lists gpus; mlpserve runs on CPUs only");
  }
  const int32_t count = group.count() == 0 ? 1 : group.count();
  if (absl::Status s =
          CheckRange(source, "instance_group count", count, 1, kMaxInstanceCount, false);
      !s.ok()) {
    return s;
  }
  if (config.instance_count() != 0 && config.instance_count() != count) {
    return ConfigError(
        source, absl::StrCat("instance_count ", config.instance_count(),
                             " and instance_group count ", count, " disagree; give one of them"));
  }
  config.set_instance_count(count);
  config.clear_instance_group();
  return absl::OkStatus();
}

// Folds dynamic_batching.default_queue_policy's max_queue_size into
// dynamic_batching.max_queue_size (see proto/model_config.proto) and
// refuses what mlpserve does not serve.
absl::Status FoldQueuePolicy(ModelConfig& config, absl::string_view source) {
  if (!config.dynamic_batching().has_default_queue_policy()) return absl::OkStatus();
  DynamicBatching* batching = config.mutable_dynamic_batching();
  inference::ModelQueuePolicy* policy = batching->mutable_default_queue_policy();
  if (policy->timeout_action() != inference::ModelQueuePolicy::REJECT) {
    return ConfigError(source,
                       "dynamic_batching.default_queue_policy.timeout_action DELAY is not served: "
                       "mlpserve has no priority levels to move a late request behind; REJECT "
                       "(the default) answers it DEADLINE_EXCEEDED");
  }
  if (absl::Status s =
          CheckAtMost(source,
                      "dynamic_batching.default_queue_policy."
                      "default_timeout_microseconds",
                      policy->default_timeout_microseconds(), kMaxQueueDelayMicroseconds);
      !s.ok()) {
    return s;
  }
  if (policy->max_queue_size() == 0) return absl::OkStatus();
  if (batching->max_queue_size() != 0 && batching->max_queue_size() != policy->max_queue_size()) {
    return ConfigError(source,
                       absl::StrCat("dynamic_batching.max_queue_size ", batching->max_queue_size(),
                                    " and dynamic_batching.default_queue_policy.max_queue_size ",
                                    policy->max_queue_size(), " disagree; give one of them"));
  }
  batching->set_max_queue_size(policy->max_queue_size());
  policy->clear_max_queue_size();
  return absl::OkStatus();
}

// Range checks that need no graph. With `zero_ok`, unset (0) fields pass;
// max_batch_size is unset when absent, and an explicit 0 is refused.
absl::Status CheckValues(const ModelConfig& config, absl::string_view source, bool zero_ok) {
  if (config.has_max_batch_size() && config.max_batch_size() == 0) {
    return ConfigError(source,
                       "max_batch_size is 0, which in Triton means the model has no batch "
                       "dimension; every mlpserve model has one, so max_batch_size must be 1 to " +
                           std::to_string(kMaxMaxBatchSize) + " (leave it out for the default " +
                           std::to_string(kDefaultMaxBatchSize) + ")");
  }
  if (absl::Status s = CheckRange(source, "max_batch_size", config.max_batch_size(), 1,
                                  kMaxMaxBatchSize, !config.has_max_batch_size());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange(source, "instance_count", config.instance_count(), 1,
                                  kMaxInstanceCount, zero_ok);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange(source, "threads_per_instance", config.threads_per_instance(), 1,
                                  kMaxThreadsPerInstance, zero_ok);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckAtMost(source, "dynamic_batching.max_queue_delay_microseconds",
                                   config.dynamic_batching().max_queue_delay_microseconds(),
                                   kMaxQueueDelayMicroseconds);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckAtMost(source, "activation_stats.sample_every",
                                   config.activation_stats().sample_every(), kMaxSampleEvery);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckAtMost(source, "activation_stats.dead_window_rows",
                      config.activation_stats().dead_window_rows(), kMaxDeadWindowRows);
      !s.ok()) {
    return s;
  }
  const int64_t max_batch =
      config.has_max_batch_size() ? config.max_batch_size() : kDefaultMaxBatchSize;
  for (int32_t preferred : config.dynamic_batching().preferred_batch_size()) {
    if (preferred < 1 || preferred > max_batch) {
      return ConfigError(source, absl::StrCat("dynamic_batching.preferred_batch_size ", preferred,
                                              " is outside 1 to max_batch_size ", max_batch));
    }
  }
  for (const auto& [tensors, what] :
       {std::pair{&config.input(), "input"}, std::pair{&config.output(), "output"}}) {
    for (const ModelTensor& t : *tensors) {
      if (t.data_type() == inference::TYPE_INVALID || t.data_type() == inference::TYPE_FP32) {
        continue;
      }
      const std::string tensor =
          t.name().empty() ? std::string(what) : absl::StrCat(what, " '", t.name(), "'");
      return ConfigError(source,
                         absl::StrCat("model '", config.name(), "' ", tensor, " has data_type ",
                                      DataTypeText(t.data_type()), "; only TYPE_FP32 is served"));
    }
  }
  return absl::OkStatus();
}

// Fills or checks the single input (or output) against the graph.
absl::Status CompleteTensor(google::protobuf::RepeatedPtrField<ModelTensor>* tensors,
                            absl::string_view what, const std::string& graph_name, int64_t features,
                            absl::string_view model) {
  if (tensors->size() > 1) {
    return ConfigError(model, absl::StrCat("config lists ", tensors->size(), " ", what,
                                           "s; the model has one ('", graph_name, "')"));
  }
  ModelTensor* t = tensors->empty() ? tensors->Add() : tensors->Mutable(0);
  if (t->name().empty()) t->set_name(graph_name);
  if (t->name() != graph_name) {
    return ConfigError(model, absl::StrCat(what, " '", t->name(), "' does not match the graph's ",
                                           what, " '", graph_name, "'"));
  }
  if (t->data_type() == inference::TYPE_INVALID) t->set_data_type(inference::TYPE_FP32);
  if (t->dims().empty()) t->add_dims(features);
  if (t->dims_size() != 1 || t->dims(0) != features) {
    return ConfigError(
        model, absl::StrCat(what, " '", t->name(), "' has dims [", absl::StrJoin(t->dims(), ", "),
                            "] but the graph has [", features, "]"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelConfig> ParseModelConfig(absl::string_view text, absl::string_view source,
                                             absl::string_view model_name) {
  ModelConfig config;
  CollectingErrors errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  const std::string owned(text);
  if (!parser.ParseFromString(owned, &config)) {
    if (errors.errors().empty()) return ConfigError(source, "does not parse");
    // Protobuf says `Expected integer or identifier, got: "TYPE_FP32"` for a
    // quoted enum value; say what to write instead.
    const bool quoted_enum =
        absl::StrContains(errors.errors(), "Expected integer or identifier, got: \"");
    return absl::InvalidArgumentError(absl::StrCat(
        source, ":", errors.errors(),
        quoted_enum ? " (an enum value such as data_type is written without quotes, as in "
                      "Triton: data_type: TYPE_FP32)"
                    : ""));
  }
  if (config.name().empty()) config.set_name(std::string(model_name));
  if (config.name() != model_name) {
    return ConfigError(
        source, absl::StrCat("name '", config.name(), "' does not match the model directory '",
                             model_name, "'"));
  }
  if (absl::Status s = FoldInstanceGroup(config, source); !s.ok()) return s;
  if (absl::Status s = FoldQueuePolicy(config, source); !s.ok()) return s;
  if (absl::Status s = CheckValues(config, source, /*zero_ok=*/true); !s.ok()) return s;
  return config;
}

absl::StatusOr<ModelConfig> ReadModelConfig(const std::string& model_dir,
                                            absl::string_view model_name) {
  const std::string path = model_dir + "/config.pbtxt";
  absl::StatusOr<std::string> text = ReadRegularFile(path, kMaxConfigFileBytes);
  if (absl::IsNotFound(text.status())) {
    ModelConfig config;
    config.set_name(std::string(model_name));
    return config;
  }
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat(path, ": cannot be read: ", text.status().message()));
  }
  return ParseModelConfig(*text, path, model_name);
}

absl::StatusOr<ModelConfig> CompleteModelConfig(ModelConfig config, const Mlp& mlp) {
  const std::string model = absl::StrCat("model '", config.name(), "'");
  if (!config.has_max_batch_size()) config.set_max_batch_size(kDefaultMaxBatchSize);
  if (config.instance_count() == 0) config.set_instance_count(1);
  if (config.threads_per_instance() == 0) config.set_threads_per_instance(1);
  if (config.platform().empty()) {
    // Every model is an ONNX file, which Triton's auto-complete calls
    // "onnxruntime_onnx" (also for backend "onnxruntime"); another backend
    // is what Triton's ModelMetadata reports when platform is empty.
    const bool onnx = config.backend().empty() || config.backend() == kOnnxRuntimeBackend;
    config.set_platform(onnx ? std::string(kOnnxRuntimePlatform) : config.backend());
    // And, as Triton's auto-complete, the backend of an ONNX model.
    if (config.backend().empty()) config.set_backend(std::string(kOnnxRuntimeBackend));
  }
  if (absl::Status s = CheckValues(config, model, /*zero_ok=*/false); !s.ok()) return s;

  if (absl::Status s = CompleteTensor(config.mutable_input(), "input", mlp.input_name,
                                      mlp.input_features(), model);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CompleteTensor(config.mutable_output(), "output", mlp.output_name,
                                      mlp.output_features(), model);
      !s.ok()) {
    return s;
  }

  // Triton takes preferred sizes in any order; the batcher wants them
  // ascending and distinct.
  if (config.dynamic_batching().preferred_batch_size_size() > 1) {
    auto* preferred = config.mutable_dynamic_batching()->mutable_preferred_batch_size();
    std::sort(preferred->begin(), preferred->end());
    preferred->erase(std::unique(preferred->begin(), preferred->end()), preferred->end());
  }
  if (config.has_dynamic_batching() && config.dynamic_batching().max_queue_size() == 0) {
    config.mutable_dynamic_batching()->set_max_queue_size(kDefaultMaxQueueSize);
  }
  if (config.version_policy().policy_choice_case() == VersionPolicy::POLICY_CHOICE_NOT_SET) {
    config.mutable_version_policy()->mutable_latest()->set_num_versions(1);
  } else if (config.version_policy().has_latest() &&
             config.version_policy().latest().num_versions() == 0) {
    config.mutable_version_policy()->mutable_latest()->set_num_versions(1);
  }
  ActivationStats* stats = config.mutable_activation_stats();
  if (!stats->has_enabled()) stats->set_enabled(true);
  if (stats->sample_every() == 0) stats->set_sample_every(1);
  if (stats->dead_window_rows() == 0) stats->set_dead_window_rows(kDefaultDeadWindowRows);
  return config;
}

absl::Duration QueueTimeout(const ModelConfig& config, absl::Duration requested) {
  if (!config.dynamic_batching().has_default_queue_policy()) return requested;
  const inference::ModelQueuePolicy& policy = config.dynamic_batching().default_queue_policy();
  const absl::Duration fallback =
      policy.default_timeout_microseconds() == 0
          ? absl::InfiniteDuration()
          : absl::Microseconds(static_cast<int64_t>(policy.default_timeout_microseconds()));
  return policy.allow_timeout_override() ? std::min(fallback, requested) : fallback;
}

}  // namespace mlpserve

#include "server/rpc/triton_config.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

namespace mlpserve {
namespace {

template <typename TritonTensor>
void CopyTensor(const ModelTensor& from, TritonTensor* to) {
  to->set_name(from.name());
  to->set_data_type(from.data_type());
  to->mutable_dims()->CopyFrom(from.dims());
}

void CopyVersionPolicy(const VersionPolicy& from, inference::ModelVersionPolicy* to) {
  switch (from.policy_choice_case()) {
    case VersionPolicy::kLatest:
      to->mutable_latest()->set_num_versions(from.latest().num_versions());
      break;
    case VersionPolicy::kAll:
      to->mutable_all();
      break;
    case VersionPolicy::kSpecific:
      to->mutable_specific()->mutable_versions()->CopyFrom(from.specific().versions());
      break;
    case VersionPolicy::POLICY_CHOICE_NOT_SET:
      break;
  }
}

void SetParameter(inference::ModelConfig* to, const std::string& key, const std::string& value) {
  (*to->mutable_parameters())[key].set_string_value(value);
}

std::string BoolText(bool value) { return value ? "true" : "false"; }

}  // namespace

inference::ModelConfig ToTritonModelConfig(const ModelConfig& config) {
  inference::ModelConfig out;
  out.set_name(config.name());
  out.set_platform(config.platform());
  out.set_backend(config.backend());
  out.set_max_batch_size(config.max_batch_size());
  for (const ModelTensor& input : config.input()) CopyTensor(input, out.add_input());
  for (const ModelTensor& output : config.output()) CopyTensor(output, out.add_output());
  CopyVersionPolicy(config.version_policy(), out.mutable_version_policy());
  if (config.has_dynamic_batching()) {
    const DynamicBatching& from = config.dynamic_batching();
    inference::ModelDynamicBatching* to = out.mutable_dynamic_batching();
    to->set_max_queue_delay_microseconds(from.max_queue_delay_microseconds());
    to->mutable_preferred_batch_size()->CopyFrom(from.preferred_batch_size());
    *to->mutable_default_queue_policy() = from.default_queue_policy();
    to->mutable_default_queue_policy()->set_max_queue_size(static_cast<uint32_t>(
        std::min<uint64_t>(from.max_queue_size(), std::numeric_limits<uint32_t>::max())));
  }
  inference::ModelInstanceGroup* group = out.add_instance_group();
  group->set_kind(inference::ModelInstanceGroup::KIND_CPU);
  group->set_count(config.instance_count());
  SetParameter(&out, "threads_per_instance", std::to_string(config.threads_per_instance()));
  SetParameter(&out, "reject_non_finite", BoolText(config.reject_non_finite()));
  SetParameter(&out, "activation_stats.enabled", BoolText(config.activation_stats().enabled()));
  SetParameter(&out, "activation_stats.sample_every",
               std::to_string(config.activation_stats().sample_every()));
  SetParameter(&out, "activation_stats.dead_window_rows",
               std::to_string(config.activation_stats().dead_window_rows()));
  return out;
}

}  // namespace mlpserve

// libFuzzer target: arbitrary bytes as config.pbtxt text. ParseModelConfig,
// then (when it parses) CompleteModelConfig against a fixed small Mlp. Checks
// what a complete config promises: every default filled, values in range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "server/model/model_config.h"
#include "tests/fuzz/fuzz_model.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mlpserve;
  static const Mlp* const mlp = new Mlp(fuzz::SmallMlp());
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ModelConfig> parsed =
      ParseModelConfig(text, "fuzz/config.pbtxt", fuzz::kModelName);
  if (!parsed.ok()) return 0;
  Check(parsed->name() == fuzz::kModelName);
  absl::StatusOr<ModelConfig> config = CompleteModelConfig(*parsed, *mlp);
  if (!config.ok()) return 0;
  Check(config->max_batch_size() >= 1);
  Check(config->instance_count() >= 1 && config->threads_per_instance() >= 1);
  Check(config->input_size() == 1 && config->output_size() == 1);
  Check(config->input(0).name() == mlp->input_name);
  Check(config->input(0).dims_size() == 1 && config->input(0).dims(0) == mlp->input_features());
  Check(config->output(0).name() == mlp->output_name);
  Check(config->output(0).dims_size() == 1 && config->output(0).dims(0) == mlp->output_features());
  Check(config->version_policy().policy_choice_case() != VersionPolicy::POLICY_CHOICE_NOT_SET);
  Check(config->activation_stats().has_enabled());
  Check(config->activation_stats().sample_every() >= 1);
  Check(config->activation_stats().dead_window_rows() >= 1);
  if (config->has_dynamic_batching()) Check(config->dynamic_batching().max_queue_size() >= 1);
  for (int32_t preferred : config->dynamic_batching().preferred_batch_size()) {
    Check(preferred >= 1 && preferred <= config->max_batch_size());
  }
  return 0;
}

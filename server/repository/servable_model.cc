#include "server/repository/servable_model.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "server/common/usable_cpus.h"
#include "server/model/model_config.h"
#include "server/model/onnx_import.h"
#include "spdlog/spdlog.h"

namespace mlpserve {

namespace {

// A request whose compute is at most this many multiply-adds (a few
// microseconds on one core) may run on the gRPC thread that received it; see
// SchedulerOptions::inline_max_rows.
constexpr int64_t kInlineMultiplyAdds = 1 << 16;

// Rows of `mlp` that fit the inline budget, within max_batch_size.
int64_t InlineMaxRows(const Mlp& mlp, int64_t max_batch_size) {
  int64_t per_row = 0;
  for (const DenseLayer& layer : mlp.layers) per_row += layer.in * layer.out;
  return per_row == 0 ? 0 : std::min(max_batch_size, kInlineMultiplyAdds / per_row);
}

}  // namespace

SchedulerOptions SchedulerOptionsFromConfig(const ModelConfig& config, const std::string& name,
                                            Clock* clock) {
  SchedulerOptions options;
  options.batching.name = name;
  options.batching.max_batch_size = config.max_batch_size();
  options.batching.dynamic_batching = config.has_dynamic_batching();
  if (options.batching.dynamic_batching) {
    const DynamicBatching& db = config.dynamic_batching();
    options.batching.max_queue_delay = absl::Microseconds(db.max_queue_delay_microseconds());
    options.batching.preferred_batch_sizes.assign(db.preferred_batch_size().begin(),
                                                  db.preferred_batch_size().end());
    options.batching.max_queue_size = db.max_queue_size();
  }
  options.instance_count = config.instance_count();
  const ActivationStats& stats = config.activation_stats();
  options.activation_sample_every = stats.enabled() ? static_cast<int>(stats.sample_every()) : 0;
  options.clock = clock;
  return options;
}

absl::StatusOr<std::shared_ptr<ServableModel>> ServableModel::Load(const Options& options) {
  const std::string onnx_path =
      (std::filesystem::path(options.model_dir) / std::to_string(options.version) / "model.onnx")
          .string();
  absl::StatusOr<Mlp> mlp = ImportOnnxFile(onnx_path);
  if (!mlp.ok()) return mlp.status();
  absl::StatusOr<ModelConfig> config = CompleteModelConfig(options.config, *mlp);
  if (!config.ok()) {
    return absl::Status(
        config.status().code(),
        absl::StrCat(options.model_dir, "/config.pbtxt: ", config.status().message()));
  }

  std::shared_ptr<ServableModel> model(new ServableModel());
  model->name_ = options.name;
  model->version_ = options.version;
  model->version_string_ = std::to_string(options.version);
  model->config_ = *std::move(config);
  const std::string id = absl::StrCat(options.name, ":", options.version);

  CompiledMlp::Options compile_options;
  compile_options.max_batch_size = model->config_.max_batch_size();
  compile_options.threads = model->config_.threads_per_instance();
  absl::StatusOr<std::shared_ptr<const CompiledMlp>> compiled =
      CompiledMlp::Create(*std::move(mlp), compile_options);
  if (!compiled.ok()) {
    return absl::Status(compiled.status().code(),
                        absl::StrCat(onnx_path, ": ", compiled.status().message()));
  }
  model->compiled_ = *std::move(compiled);
  // A model whose engine cannot carry NaN through refuses NaN and infinity
  // whatever config.pbtxt says: its complete config (ModelConfig) says so too.
  if (!model->compiled_->non_finite_refusal().empty() && !model->config_.reject_non_finite()) {
    model->config_.set_reject_non_finite(true);
    spdlog::info("model '{}': inputs with NaN or infinity are refused: {}", id,
                 model->compiled_->non_finite_refusal());
  }

  model->metrics_ = options.metrics->AddModel(
      options.name, options.version, model->compiled_->mlp(), model->config_.activation_stats());

  SchedulerOptions scheduler_options =
      SchedulerOptionsFromConfig(model->config_, id, options.clock);
  model->stats_ = std::make_unique<ModelStats>(model->metrics_.get());
  scheduler_options.observer = model->stats_.get();
  // Inline runs use the model's OpenMP thread count on the gRPC thread, which
  // would give every gRPC thread a team of its own: single-threaded only.
  if (model->config_.threads_per_instance() == 1) {
    scheduler_options.inline_max_rows =
        InlineMaxRows(model->compiled_->mlp(), model->config_.max_batch_size());
    scheduler_options.inline_runners = UsableCpus();
  }
  ExecutionContext::Options context_options;  // the model's thread count
  std::shared_ptr<const CompiledMlp> compiled_model = model->compiled_;
  auto factory = [compiled_model,
                  context_options]() -> absl::StatusOr<std::unique_ptr<BatchRunner>> {
    absl::StatusOr<std::unique_ptr<ExecutionContext>> context =
        ExecutionContext::Create(compiled_model, context_options);
    if (!context.ok()) return context.status();
    return std::unique_ptr<BatchRunner>(*std::move(context));
  };
  absl::StatusOr<std::unique_ptr<ModelScheduler>> scheduler =
      ModelScheduler::Create(std::move(factory), scheduler_options);
  if (!scheduler.ok()) {
    return absl::Status(scheduler.status().code(),
                        absl::StrCat("model '", id, "': ", scheduler.status().message()));
  }
  model->scheduler_ = *std::move(scheduler);
  model->metrics_->SetReady(true);
  spdlog::info(
      "model '{}' loaded from {}: {} -> {} features, {} layers, max_batch_size {}{}; "
      "oneDNN {}",
      id, onnx_path, model->compiled_->input_features(), model->compiled_->output_features(),
      model->compiled_->mlp().layers.size(), model->config_.max_batch_size(),
      model->config_.has_dynamic_batching() ? ", dynamic batching" : "",
      model->compiled_->implementations());
  if (model->compiled_->uses_reference_implementation()) {
    spdlog::warn(
        "model '{}': oneDNN fell back to a reference kernel ({}); expect it to be "
        "an order of magnitude slower than on a CPU oneDNN has JIT kernels for",
        id, model->compiled_->implementations());
  }
  return model;
}

ServableModel::~ServableModel() {
  if (metrics_ != nullptr) metrics_->SetReady(false);
  scheduler_.reset();  // answers every queued request before the metrics go
}

}  // namespace mlpserve

// `models list | load NAME | unload NAME | stats [NAME]`: the model
// repository and statistics extensions.
#include <iostream>
#include <memory>
#include <string>

#include "client/cli/commands.h"
#include "client/lib/tensor_json.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace mlpserve::client::cli {
namespace {

int RunList(const GlobalFlags& flags, bool ready_only) {
  std::unique_ptr<InferenceClient> client = MakeClient(flags);
  if (!client) return 2;
  absl::StatusOr<inference::RepositoryIndexResponse> index = client->RepositoryIndex(ready_only);
  if (!index.ok()) {
    spdlog::error("{}", std::string(index.status().message()));
    return 1;
  }
  nlohmann::json models = nlohmann::json::array();
  for (const auto& model : index->models()) {
    models.push_back({{"name", model.name()},
                      {"version", model.version()},
                      {"state", model.state()},
                      {"reason", model.reason()}});
  }
  std::cout << DumpJson(nlohmann::json{{"models", models}}, 2) << std::endl;
  return 0;
}

int RunControl(const GlobalFlags& flags, const std::string& model, bool load) {
  std::unique_ptr<InferenceClient> client = MakeClient(flags);
  if (!client) return 2;
  absl::Status status = load ? client->LoadModel(model) : client->UnloadModel(model);
  if (!status.ok()) {
    spdlog::error("{}", std::string(status.message()));
    return 1;
  }
  std::cout << DumpJson(nlohmann::json{{"model", model}, {load ? "loaded" : "unloaded", true}})
            << std::endl;
  return 0;
}

nlohmann::json Duration(const inference::StatisticDuration& d) {
  return {{"count", d.count()}, {"ns", d.ns()}};
}

int RunStats(const GlobalFlags& flags, const std::string& model) {
  std::unique_ptr<InferenceClient> client = MakeClient(flags);
  if (!client) return 2;
  absl::StatusOr<inference::ModelStatisticsResponse> stats = client->ModelStatistics(model);
  if (!stats.ok()) {
    spdlog::error("{}", std::string(stats.status().message()));
    return 1;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : stats->model_stats()) {
    const auto& s = m.inference_stats();
    nlohmann::json batches = nlohmann::json::array();
    for (const auto& b : m.batch_stats()) {
      batches.push_back({{"batch_size", b.batch_size()},
                         {"compute_input", Duration(b.compute_input())},
                         {"compute_infer", Duration(b.compute_infer())},
                         {"compute_output", Duration(b.compute_output())}});
    }
    out.push_back({{"name", m.name()},
                   {"version", m.version()},
                   {"last_inference_ms", m.last_inference()},
                   {"inference_count", m.inference_count()},
                   {"execution_count", m.execution_count()},
                   {"success", Duration(s.success())},
                   {"fail", Duration(s.fail())},
                   {"queue", Duration(s.queue())},
                   {"compute_input", Duration(s.compute_input())},
                   {"compute_infer", Duration(s.compute_infer())},
                   {"compute_output", Duration(s.compute_output())},
                   {"batch_stats", batches}});
  }
  std::cout << DumpJson(nlohmann::json{{"model_stats", out}}, 2) << std::endl;
  return 0;
}

}  // namespace

void AddModelsCommand(CLI::App* app, const GlobalFlags* flags, int* exit_code) {
  CLI::App* models =
      app->add_subcommand("models", "The model repository: list, load, unload, stats");
  models->require_subcommand(1);

  CLI::App* list = models->add_subcommand("list", "Every model and version with its state");
  auto ready_only = std::make_shared<bool>(false);
  list->add_flag("--ready", *ready_only, "Only models ready for inference");
  list->callback([=] { *exit_code = RunList(*flags, *ready_only); });

  CLI::App* stats = models->add_subcommand(
      "stats", "Per-version statistics (requests, rows, batches, queue and compute time)");
  auto stats_model = std::make_shared<std::string>();
  stats->add_option("model", *stats_model, "Model name (default: every ready model)");
  stats->callback([=] { *exit_code = RunStats(*flags, *stats_model); });

  for (const bool load : {true, false}) {
    CLI::App* sub = models->add_subcommand(
        load ? "load" : "unload",
        load ? "Load or reload a model (server in --model-control-mode explicit)"
             : "Unload a model (server in --model-control-mode explicit)");
    auto name = std::make_shared<std::string>();
    sub->add_option("model", *name, "Model name")->required();
    sub->callback([=] { *exit_code = RunControl(*flags, *name, load); });
  }
}

}  // namespace mlpserve::client::cli

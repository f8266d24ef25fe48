#include "server/metrics/activation_json.h"

#include <map>

#include "nlohmann/json.hpp"

namespace mlpserve {
namespace {

using nlohmann::json;

json LayerJson(const ActivationView& view, const LayerActivationView& layer) {
  json dead = json::array();
  for (bool d : layer.dead) dead.push_back(d);
  return json{{"layer", layer.layer},
              {"layer_index", layer.layer_index},
              {"node", layer.node},
              {"activation", layer.activation},
              {"units", layer.units},
              {"rows_seen", view.rows_seen},
              {"window_rows", layer.window_rows},
              {"window_full", layer.window_full},
              {"values_total", layer.values_total},
              {"negative_total", layer.negative_total},
              {"negative_ratio", layer.negative_ratio},
              {"dead_units", layer.dead_units},
              {"positive_rate", layer.positive_rate},
              {"dead", std::move(dead)}};
}

// Dumps with invalid UTF-8 (a model name is a directory name) replaced.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string ModelActivationsJson(absl::string_view model,
                                 const std::vector<ModelActivations>& views) {
  json versions = json::array();
  for (const ModelActivations& m : views) {
    if (m.model != model) continue;
    json layers = json::array();
    for (const LayerActivationView& layer : m.view.layers) {
      layers.push_back(LayerJson(m.view, layer));
    }
    versions.push_back(json{{"version", m.version},
                            {"rows_seen", m.view.rows_seen},
                            {"batches_seen", m.view.batches_seen},
                            {"dead_window_rows", m.view.dead_window_rows},
                            {"layers", std::move(layers)}});
  }
  if (versions.empty()) return "";
  return Dump(json{{"model", std::string(model)}, {"versions", std::move(versions)}});
}

std::string ModelListJson(const std::vector<ModelActivations>& views) {
  std::map<std::string, std::vector<int64_t>> models;
  for (const ModelActivations& m : views) models[m.model].push_back(m.version);
  json list = json::array();
  for (const auto& [name, versions] : models) {
    list.push_back(json{{"model", name}, {"versions", versions}});
  }
  return Dump(json{{"models", std::move(list)}});
}

std::string ErrorJson(absl::string_view message) {
  return Dump(json{{"error", std::string(message)}});
}

}  // namespace mlpserve

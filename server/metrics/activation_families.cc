#include "server/metrics/activation_families.h"

#include <string>
#include <utility>

#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace mlpserve {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Empty(std::string name, std::string help, MetricType type) {
  MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

ClientMetric Series(const ModelActivations& model, const LayerActivationView& layer) {
  ClientMetric metric;
  metric.label = {{"model", model.model},
                  {"version", std::to_string(model.version)},
                  {"layer", std::to_string(layer.layer)}};
  return metric;
}

}  // namespace

std::vector<MetricFamily> ActivationFamilies(const std::vector<ModelActivations>& models) {
  MetricFamily info =
      Empty("mlpserve_layer_info",
            "Observed hidden activations: layer is the position among them, units its width.",
            MetricType::Gauge);
  MetricFamily units = Empty("mlpserve_layer_units",
                             "Units of the observed activation (the same as layer_info's units "
                             "label, as a value for ratios such as dead_neurons / layer_units).",
                             MetricType::Gauge);
  MetricFamily values = Empty("mlpserve_activation_values_total",
                              "Activation values observed (rows * units).", MetricType::Counter);
  MetricFamily negative =
      Empty("mlpserve_activation_negative_total",
            "Observed activation values whose pre-activation was negative.", MetricType::Counter);
  MetricFamily ratio =
      Empty("mlpserve_activation_negative_ratio",
            "Fraction of negative pre-activations over the recent window.", MetricType::Gauge);
  MetricFamily dead =
      Empty("mlpserve_dead_neurons",
            "Units without a positive pre-activation over the recent window (exported once "
            "a full window of dead_window_rows rows has been observed).",
            MetricType::Gauge);
  for (const ModelActivations& model : models) {
    for (const LayerActivationView& layer : model.view.layers) {
      ClientMetric m = Series(model, layer);
      m.label.push_back({"node", layer.node});
      m.label.push_back({"activation", layer.activation});
      m.label.push_back({"units", std::to_string(layer.units)});
      m.gauge.value = 1;
      info.metric.push_back(std::move(m));

      m = Series(model, layer);
      m.gauge.value = static_cast<double>(layer.units);
      units.metric.push_back(std::move(m));
      m = Series(model, layer);
      m.counter.value = static_cast<double>(layer.values_total);
      values.metric.push_back(std::move(m));
      m = Series(model, layer);
      m.counter.value = static_cast<double>(layer.negative_total);
      negative.metric.push_back(std::move(m));
      if (model.view.rows_seen == 0) continue;  // no evidence yet
      m = Series(model, layer);
      m.gauge.value = layer.negative_ratio;
      ratio.metric.push_back(std::move(m));
      if (!layer.window_full) continue;  // dead needs a full window of evidence
      m = Series(model, layer);
      m.gauge.value = static_cast<double>(layer.dead_units);
      dead.metric.push_back(std::move(m));
    }
  }
  std::vector<MetricFamily> families;
  for (MetricFamily* family : {&info, &units, &values, &negative, &ratio, &dead}) {
    if (!family->metric.empty()) families.push_back(std::move(*family));
  }
  return families;
}

}  // namespace mlpserve

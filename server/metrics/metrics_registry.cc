#include "server/metrics/metrics_registry.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "oneapi/dnnl/dnnl.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "server/metrics/activation_families.h"
#include "server/metrics/model_metrics_impl.h"
#include "server/metrics/process_collector.h"

#ifndef MLPSERVE_VERSION
#define MLPSERVE_VERSION "0.1.0"
#endif

namespace mlpserve {

using metrics_internal::ModelMetricsImpl;
using metrics_internal::ModelSeries;

// The series of one model version and its live instances, newest last, each
// with its ready flag.
struct MetricsRegistry::Entry {
  std::unique_ptr<ModelSeries> series;
  std::vector<std::pair<const ModelMetricsImpl*, bool>> instances;
};

namespace {

template <typename T>
prometheus::Family<T>& Build(prometheus::detail::Builder<T> builder, prometheus::Registry& registry,
                             const std::string& name, const std::string& help) {
  return builder.Name(name).Help(help).Register(registry);
}

std::string OneDnnVersion() {
  const dnnl_version_t* v = dnnl_version();
  return absl::StrCat(v->major, ".", v->minor, ".", v->patch);
}

}  // namespace

MetricsRegistry::MetricsRegistry()
    : registry_(std::make_shared<prometheus::Registry>()),
      process_collector_(std::make_shared<ProcessCollector>()) {}

MetricsRegistry::~MetricsRegistry() = default;

absl::StatusOr<std::unique_ptr<MetricsRegistry>> MetricsRegistry::Create() {
  std::unique_ptr<MetricsRegistry> r(new MetricsRegistry());
  prometheus::Registry& reg = *r->registry_;
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  // prometheus-cpp reports bad names by exception; ours are constants, but
  // keep the error a value at the boundary.
  try {
    r->families_ = std::unique_ptr<Families>(new Families{
        Build(BuildCounter(), reg, "mlpserve_requests_total",
              "ModelInfer requests by final gRPC status code."),
        Build(BuildCounter(), reg, "mlpserve_inferences_total",
              "Rows (inferences) computed successfully."),
        Build(BuildCounter(), reg, "mlpserve_executions_total",
              "Batches executed successfully by the engine."),
        Build(BuildHistogram(), reg, "mlpserve_request_duration_seconds",
              "ModelInfer latency from receipt to response, of requests the scheduler took "
              "(refusals count only in mlpserve_requests_total)."),
        Build(BuildHistogram(), reg, "mlpserve_queue_duration_seconds",
              "Time a request waited in the queue: until its batch started, or until it was "
              "dropped at its deadline or cancellation."),
        Build(BuildHistogram(), reg, "mlpserve_compute_duration_seconds",
              "Engine time per executed batch."),
        Build(BuildHistogram(), reg, "mlpserve_batch_size", "Rows per executed batch."),
        Build(BuildGauge(), reg, "mlpserve_queue_depth", "Requests waiting in the queue."),
        Build(BuildGauge(), reg, "mlpserve_model_ready", "1 when the model version serves."),
        Build(BuildGauge(), reg, "mlpserve_build_info",
              "Build information: server, oneDNN and gRPC versions."),
    });
    r->families_->build_info
        .Add(
            {{"version", MLPSERVE_VERSION}, {"onednn", OneDnnVersion()}, {"grpc", grpc::Version()}})
        .Set(1);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("metrics registry: ", e.what()));
  }
  return r;
}

std::unique_ptr<ModelMetrics> MetricsRegistry::AddModel(const std::string& model, int64_t version,
                                                        const Mlp& mlp,
                                                        const ActivationStats& stats_config) {
  const bool enabled = !stats_config.has_enabled() || stats_config.enabled();
  const Key key(model, version);
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Entry>& entry = models_[key];
  if (entry == nullptr) {
    entry = std::make_unique<Entry>();
    entry->series = std::make_unique<ModelSeries>(
        *families_, prometheus::Labels{{"model", model}, {"version", std::to_string(version)}});
    // Family::Add returned the failed version's 0 series, if there is one:
    // the entry owns it now (no gap in the exposition).
    auto failed = load_failures_.find(key);
    if (failed != load_failures_.end()) failed->second = nullptr;
  }
  auto metrics = std::make_unique<ModelMetricsImpl>(this, model, version, entry->series.get(), mlp,
                                                    enabled, stats_config.dead_window_rows());
  entry->instances.emplace_back(metrics.get(), false);
  return metrics;
}

void MetricsRegistry::SetReady(const ModelMetricsImpl* instance, const Key& key, bool ready) {
  absl::MutexLock lock(&mu_);
  auto it = models_.find(key);
  if (it == models_.end()) return;
  bool any_ready = false;
  for (auto& [i, r] : it->second->instances) {
    if (i == instance) r = ready;
    any_ready = any_ready || r;
  }
  it->second->series->model_ready.Set(any_ready ? 1 : 0);
}

void MetricsRegistry::Release(const ModelMetricsImpl* instance, const Key& key) {
  absl::MutexLock lock(&mu_);
  auto it = models_.find(key);
  if (it == models_.end()) return;
  auto& instances = it->second->instances;
  instances.erase(std::remove_if(instances.begin(), instances.end(),
                                 [&](const auto& i) { return i.first == instance; }),
                  instances.end());
  if (!instances.empty()) {
    bool any_ready = false;
    for (const auto& i : instances) any_ready = any_ready || i.second;
    it->second->series->model_ready.Set(any_ready ? 1 : 0);
    return;
  }
  it->second->series->Remove();
  models_.erase(it);
  auto failed = load_failures_.find(key);
  if (failed != load_failures_.end()) failed->second = AddNotReady(key);
}

prometheus::Gauge* MetricsRegistry::AddNotReady(const Key& key) {
  prometheus::Gauge& gauge =
      families_->model_ready.Add({{"model", key.first}, {"version", std::to_string(key.second)}});
  gauge.Set(0);
  return &gauge;
}

void MetricsRegistry::SetLoadFailures(const std::string& model, const std::set<int64_t>& versions) {
  absl::MutexLock lock(&mu_);
  for (auto it = load_failures_.lower_bound(Key(model, INT64_MIN));
       it != load_failures_.end() && it->first.first == model;) {
    if (versions.count(it->first.second) != 0) {
      ++it;
      continue;
    }
    if (it->second != nullptr) families_->model_ready.Remove(it->second);
    it = load_failures_.erase(it);
  }
  for (int64_t version : versions) {
    const Key key(model, version);
    if (load_failures_.count(key) != 0) continue;
    load_failures_[key] = models_.count(key) != 0 ? nullptr : AddNotReady(key);
  }
}

void MetricsRegistry::RecordUnroutedRequest(absl::StatusCode code) {
  metrics_internal::RequestCounter(families_->requests, {{"model", ""}, {"version", ""}}, unrouted_,
                                   code)
      .Increment();
}

std::vector<ModelActivations> MetricsRegistry::ActivationViews() const {
  std::vector<ModelActivations> views;
  absl::MutexLock lock(&mu_);
  for (const auto& [key, entry] : models_) {
    if (entry->instances.empty()) continue;
    const ModelMetricsImpl* shown = entry->instances.back().first;
    for (auto it = entry->instances.rbegin(); it != entry->instances.rend(); ++it) {
      if (it->second) {  // the newest ready one
        shown = it->first;
        break;
      }
    }
    if (!shown->activations_enabled()) continue;
    views.push_back({key.first, key.second, shown->activations().Snapshot()});
  }
  return views;
}

std::vector<prometheus::MetricFamily> MetricsRegistry::Collect() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (prometheus::MetricFamily& f : process_collector_->Collect())
    families.push_back(std::move(f));
  for (prometheus::MetricFamily& f : ActivationFamilies(ActivationViews())) {
    families.push_back(std::move(f));
  }
  return families;
}

std::shared_ptr<prometheus::Registry> MetricsRegistry::registry() const { return registry_; }

}  // namespace mlpserve

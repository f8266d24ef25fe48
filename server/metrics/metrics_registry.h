// Prometheus metrics of the server: one MetricsRegistry per process owns the
// prometheus::Registry and every metric family (registered once, at start),
// and hands out a ModelMetrics per loaded model version whose series are
// created once at model load and cached, so the request path never looks up
// a family or a label set.
//
// Names and labels follow the house rules: prefix mlpserve_, base units,
// counters end in _total, labels model, version, code, layer. Exported:
//   mlpserve_requests_total{model,version,code}       counter, per ModelInfer
//   mlpserve_inferences_total{model,version}          counter, rows computed OK
//   mlpserve_executions_total{model,version}          counter, batches computed OK
//   mlpserve_request_duration_seconds{model,version}  histogram, admitted requests
//   mlpserve_queue_duration_seconds{model,version}    histogram, computed requests
//   mlpserve_compute_duration_seconds{model,version}  histogram, per batch
//   mlpserve_batch_size{model,version}                histogram, rows per batch
//   mlpserve_queue_depth{model,version}               gauge
//   mlpserve_model_ready{model,version}               gauge, 0 or 1 (see below)
//   mlpserve_build_info{version,onednn,grpc}          gauge, 1
//   process_{resident_memory_bytes,virtual_memory_bytes,cpu_seconds_total,
//            open_fds,max_fds,start_time_seconds}     from /proc/self
// and per observed layer of a model with activation_stats enabled (computed
// at scrape time from its ActivationTracker):
//   mlpserve_layer_info{model,version,layer,node,activation,units}  gauge, 1
//   mlpserve_layer_units{model,version,layer}                       gauge, units
//   mlpserve_activation_values_total{model,version,layer}           counter
//   mlpserve_activation_negative_total{model,version,layer}         counter
//   mlpserve_activation_negative_ratio{model,version,layer}         gauge, window
//   mlpserve_dead_neurons{model,version,layer}                      gauge, window
// (the ratio once the model has observed a row, dead_neurons once it has
// observed a full window of dead_window_rows rows). `code` is the gRPC
// status code name (OK, INVALID_ARGUMENT, ...); a code's series appears the
// first time the code is recorded, OK's at model load. Duration buckets are
// log-spaced, 1-2.5-5 per decade from 1 us to 10 s (22 buckets); batch-size
// buckets are 1, 2, 4, ..., 65536 (the largest allowed max_batch_size).
//
// mlpserve_model_ready is 1 while an instance of the version is ready, 0 while
// its instances are loaded but none is ready, and also 0 for a version whose
// latest load failed (SetLoadFailures) and that has no live instance, so the
// alert `mlpserve_model_ready == 0` fires for a load failure too. Otherwise
// (never loaded, unloaded, removed) the version has no series.
//
// Lifetime: the registry must outlive every ModelMetrics it handed out.
// Reloading a model version while the old instance still drains is fine: both
// instances share the version's series (removed when the last one goes), the
// ready gauge is 1 while any instance is ready, and the activation view is
// the newest ready instance's (the newest instance's while none is ready):
// a reloaded instance takes over the activation series only once it is
// ready, so a reload that fails leaves them with the old instance, never
// dropping to a new instance's zeros and back.
//
// Thread-safety: every method is thread-safe.
#ifndef MLPSERVE_SERVER_METRICS_METRICS_REGISTRY_H_
#define MLPSERVE_SERVER_METRICS_METRICS_REGISTRY_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/model_config.pb.h"
#include "server/metrics/activation_tracker.h"
#include "server/metrics/model_metrics.h"
#include "server/model/mlp.h"

namespace prometheus {
class Collectable;
class Counter;
class Gauge;
class Registry;
struct MetricFamily;
}  // namespace prometheus

namespace mlpserve {

namespace metrics_internal {
class ModelMetricsImpl;
struct ModelSeries;
}  // namespace metrics_internal

// The activation view of one live model version.
struct ModelActivations {
  std::string model;
  int64_t version = 0;
  ActivationView view;
};

class MetricsRegistry {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsRegistry>> Create();
  ~MetricsRegistry();

  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Series for one model version: request, queue, compute, batch and
  // activation metrics plus mlpserve_layer_info. Destroying the returned
  // object removes its series (the model was unloaded) unless another live
  // instance of the same model version still uses them. `stats_config` as
  // completed by CompleteModelConfig; an absent `enabled` means enabled,
  // dead_window_rows 0 means 1000. sample_every is the scheduler's business.
  std::unique_ptr<ModelMetrics> AddModel(const std::string& model, int64_t version, const Mlp& mlp,
                                         const ActivationStats& stats_config);

  // A request that never reached a model version (unknown model or version,
  // malformed request naming no loadable model): counted in
  // mlpserve_requests_total with model="" and version="".
  void RecordUnroutedRequest(absl::StatusCode code);

  // The versions of `model` whose latest load failed, replacing the set given
  // before for `model` (empty: none, e.g. the model was unloaded or removed).
  // Version 0 stands for a failure before any version was known (a bad
  // config.pbtxt, no version folder), as in the repository index. Each such
  // version without a live instance exports mlpserve_model_ready 0; one with
  // a live instance (an older build that keeps serving) keeps its instance's
  // value. Versions dropped from the set lose that series.
  void SetLoadFailures(const std::string& model, const std::set<int64_t>& versions);

  // Every metric family: the registry's, the process collector's and the
  // activation families, ready for prometheus::TextSerializer.
  std::vector<prometheus::MetricFamily> Collect() const;

  // Activation views of the live model versions with activation statistics
  // enabled, ordered by model name, then version.
  std::vector<ModelActivations> ActivationViews() const;

  // The prometheus-cpp registry holding the request/batch families (not the
  // process and activation families, which Collect() adds).
  std::shared_ptr<prometheus::Registry> registry() const;

  struct Families;  // defined in the .cc

 private:
  friend class metrics_internal::ModelMetricsImpl;
  using Key = std::pair<std::string, int64_t>;
  struct Entry;  // defined in the .cc

  MetricsRegistry();
  // Called by ModelMetricsImpl: its ready state changed / it is going away.
  void SetReady(const metrics_internal::ModelMetricsImpl* instance, const Key& key, bool ready);
  void Release(const metrics_internal::ModelMetricsImpl* instance, const Key& key);
  // A mlpserve_model_ready{key} series set to 0.
  prometheus::Gauge* AddNotReady(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
  std::shared_ptr<prometheus::Collectable> process_collector_;
  // mlpserve_requests_total{model="",version="",code}, created on first use.
  std::array<std::atomic<prometheus::Counter*>, 17> unrouted_{};

  mutable absl::Mutex mu_;
  std::map<Key, std::unique_ptr<Entry>> models_ ABSL_GUARDED_BY(mu_);
  // Versions whose latest load failed, with the 0 series the registry owns
  // for them; nullptr while the version's Entry in models_ owns the series.
  std::map<Key, prometheus::Gauge*> load_failures_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_METRICS_METRICS_REGISTRY_H_

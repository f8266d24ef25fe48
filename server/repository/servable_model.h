// One loaded, servable model version: its completed config, the compiled
// oneDNN model, its metric series and its scheduler (queue + executors).
//
// Built completely by Load (ONNX import, config, oneDNN primitives, weight
// reorders, executor threads) before anyone can see it; shared as
// shared_ptr<const ServableModel> so a request that picked this version
// keeps it alive while the repository may already serve a newer one.
//
// Thread-safety: immutable after Load; scheduler() and metrics() are
// thread-safe objects. Destruction drains the scheduler (every accepted
// request is answered) and must not happen on one of its executor threads.
#ifndef MLPSERVE_SERVER_REPOSITORY_SERVABLE_MODEL_H_
#define MLPSERVE_SERVER_REPOSITORY_SERVABLE_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"
#include "server/common/clock.h"
#include "server/engine/compiled_mlp.h"
#include "server/metrics/metrics_registry.h"
#include "server/metrics/model_metrics.h"
#include "server/repository/model_stats.h"
#include "server/scheduler/model_scheduler.h"

namespace mlpserve {

class ServableModel {
 public:
  struct Options {
    // <repository>/<model>; holds config.pbtxt and the version folders.
    std::string model_dir;
    std::string name;
    int64_t version = 0;
    // Already read from model_dir/config.pbtxt (possibly empty); completed
    // against the graph by Load.
    ModelConfig config;
    // Where the model's series are registered; not owned; required.
    MetricsRegistry* metrics = nullptr;
    // Time source of the scheduler; not owned.
    Clock* clock = Clock::Real();
  };

  // Loads <model_dir>/<version>/model.onnx. Errors name the file at fault
  // (model.onnx, or config.pbtxt when it disagrees with the graph), or the
  // model and version when the scheduler cannot start. May throw
  // std::bad_alloc (the repository turns it into a load error).
  static absl::StatusOr<std::shared_ptr<ServableModel>> Load(const Options& options);
  ~ServableModel();

  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }
  const std::string& version_string() const { return version_string_; }
  // Complete: every default and graph-derived field is set.
  const ModelConfig& config() const { return config_; }
  const CompiledMlp& compiled() const { return *compiled_; }
  ModelScheduler& scheduler() const { return *scheduler_; }
  ModelMetrics& metrics() const { return *metrics_; }
  ModelStats& stats() const { return *stats_; }
  // Expires when this object's destructor has finished, i.e. once the
  // queued requests it still held are answered.
  std::weak_ptr<const void> alive() const { return alive_; }

 private:
  ServableModel() = default;

  // Declared first, so destroyed last.
  const std::shared_ptr<const char> alive_ = std::make_shared<const char>('\0');
  std::string name_;
  int64_t version_ = 0;
  std::string version_string_;
  ModelConfig config_;
  std::shared_ptr<const CompiledMlp> compiled_;
  // Declared before the scheduler: the scheduler reports to it until it is
  // destroyed, so it must outlive it.
  std::unique_ptr<ModelMetrics> metrics_;
  // The scheduler's observer; forwards to metrics_.
  std::unique_ptr<ModelStats> stats_;
  std::unique_ptr<ModelScheduler> scheduler_;
};

// Scheduler settings that a complete config asks for.
SchedulerOptions SchedulerOptionsFromConfig(const ModelConfig& config, const std::string& name,
                                            Clock* clock);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_REPOSITORY_SERVABLE_MODEL_H_

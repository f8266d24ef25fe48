// The model repository: which model versions are served, and lookup of the
// one a request names.
//
// Layout on disk: <root>/<model>/config.pbtxt (optional) and
// <root>/<model>/<version>/model.onnx, versions positive integers. The
// version policy of config.pbtxt (default: latest 1) picks the versions that
// are loaded. A version that fails to load is logged with the reason and
// reported UNAVAILABLE; every other model and version still serves.
//
// Thread-safety: every method is thread-safe. Get is lock-light (one mutex
// held while copying a shared_ptr) and never blocks on loading.
#ifndef MLPSERVE_SERVER_REPOSITORY_MODEL_REPOSITORY_H_
#define MLPSERVE_SERVER_REPOSITORY_MODEL_REPOSITORY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/common/clock.h"
#include "server/metrics/metrics_registry.h"
#include "server/repository/servable_model.h"

namespace mlpserve {

enum class ModelState { kReady, kUnavailable, kLoading, kUnloading };
absl::string_view ModelStateName(ModelState state);  // "READY", ...

struct ModelVersionStatus {
  std::string name;
  int64_t version = 0;  // 0 when the model failed before any version was known
  ModelState state = ModelState::kUnavailable;
  std::string reason;  // why it is not ready; empty when ready
};

class ModelRepository {
 public:
  struct Options {
    // Directory holding one folder per model; must exist.
    std::string root;
    // Where loaded models register their series; not owned; required.
    MetricsRegistry* metrics = nullptr;
    // Time source for the schedulers; not owned.
    Clock* clock = Clock::Real();
  };

  // NOT_FOUND when `root` does not exist or is not a directory.
  static absl::StatusOr<std::unique_ptr<ModelRepository>> Create(const Options& options);
  ~ModelRepository();

  // Loads every model under root. Returns how many versions are ready.
  int LoadAll();

  // The version to run a request on. `version` empty: the highest ready
  // version. NOT_FOUND naming the model (and version) otherwise.
  absl::StatusOr<std::shared_ptr<const ServableModel>> Get(absl::string_view name,
                                                           absl::string_view version) const;

  // Whether the repository holds a model of that name, ready or not.
  bool HasModel(absl::string_view name) const;

  // Ready versions of `name`, ascending; empty if none.
  std::vector<int64_t> ReadyVersions(absl::string_view name) const;

  // Every model and version known, with its state; sorted by name, version.
  std::vector<ModelVersionStatus> Index() const;

 private:
  explicit ModelRepository(const Options& options) : options_(options) {}

  struct ModelEntry {
    std::map<int64_t, std::shared_ptr<const ServableModel>> ready;
    std::vector<ModelVersionStatus> failures;
  };
  ModelEntry LoadModel(const std::string& name) const;

  const Options options_;
  mutable absl::Mutex mu_;
  std::map<std::string, ModelEntry, std::less<>> models_ ABSL_GUARDED_BY(mu_);
};

// The versions a config's version_policy selects among `available`
// (ascending). Default policy: the latest one.
std::vector<int64_t> SelectVersions(const VersionPolicy& policy, bool has_policy,
                                    const std::vector<int64_t>& available);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_REPOSITORY_MODEL_REPOSITORY_H_

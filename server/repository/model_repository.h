// The model repository: which model versions are served, and lookup of the
// one a request names.
//
// Layout on disk: <root>/<model>/config.pbtxt (optional) and
// <root>/<model>/<version>/model.onnx, versions positive integers named in
// canonical decimal ("3"; folders such as "03", "+3" or "v3" are no versions,
// logged when the model loads). The
// version policy of config.pbtxt (default: latest 1) picks the versions that
// are loaded. A version that fails to load is logged with the reason and
// reported UNAVAILABLE (the index's reason: printable, cut after about 1 KiB
// of the message, up to 4 KiB where every byte needs escaping; the log has
// it whole); every other model and version still serves, and a
// version that was already serving keeps serving when its replacement fails.
// Running out of memory while building a version is a load error of that
// version (RESOURCE_EXHAUSTED), not the end of the server.
//
// Zero-downtime reload: a new or changed version is built completely
// (ONNX import, oneDNN primitives, executors) before it is published, by
// swapping a shared_ptr under the mutex. Requests that already hold the old
// version finish on it; the last holder hands it to the Reaper, which drains
// and destroys it off the request path.
//
// Thread-safety: every method is thread-safe. Get is lock-light (one mutex
// held while copying a shared_ptr) and never blocks on loading. The control
// methods (LoadAll, LoadModel, UnloadModel, Poll) may block for a load; call
// them from a control thread (RepositoryController), never from a gRPC
// callback. They are serialized among themselves.
#ifndef MLPSERVE_SERVER_REPOSITORY_MODEL_REPOSITORY_H_
#define MLPSERVE_SERVER_REPOSITORY_MODEL_REPOSITORY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/common/clock.h"
#include "server/metrics/metrics_registry.h"
#include "server/repository/reaper.h"
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
    // Called on the loading thread when a version's load begins (it is
    // reported as loading from then on), before its files are read. For
    // tests, which hold a load there; empty by default.
    std::function<void(const std::string& model, int64_t version)> on_version_load;
    // Called after the versions of a model changed (a load or reload ended,
    // whether it failed or not; an unload; a removal found by Poll), on the
    // thread that changed them, outside the repository's locks; it may call
    // the repository's const methods. Empty by default.
    std::function<void()> on_change;
  };

  // NOT_FOUND when `root` does not exist or is not a directory;
  // FAILED_PRECONDITION when it cannot be listed (no read permission).
  static absl::StatusOr<std::unique_ptr<ModelRepository>> Create(const Options& options);
  // Drains every version and returns once each one this repository ever
  // loaded is destroyed: the requests still holding one (queued, computing
  // or being answered) are answered first. Call it after the gRPC server
  // stopped and with no control method running.
  ~ModelRepository();

  // Lists the models LoadAll(only) loads (every model folder under root, or
  // with `only` non-empty just those) and marks each as loading until
  // LoadAll has loaded it: Get answers UNAVAILABLE "is loading" for it, not
  // NOT_FOUND. Folders whose names are not valid UTF-8 are not models
  // (their names could not be labels or protobuf strings): logged here,
  // skipped everywhere. At start-up, call it before the gRPC server starts
  // and pass the result to LoadAll once it serves.
  std::vector<std::string> MarkLoading(const std::vector<std::string>& only = {});

  // Loads MarkLoading(only)'s models, clearing each one's mark when its
  // load ends. Returns how many versions are ready.
  int LoadAll(const std::vector<std::string>& only = {});

  // Shutdown: a LoadAll or Poll under way finishes the model it is loading
  // and skips the rest (logged). Thread-safe; does not block.
  void StopLoading() { stop_loading_.store(true, std::memory_order_relaxed); }

  // Loads or reloads `name`: versions the policy now selects are loaded,
  // changed ones rebuilt and swapped in, deselected ones retired; unchanged
  // ones keep serving untouched. NOT_FOUND when <root>/<name> does not
  // exist; INVALID_ARGUMENT with the first load error when any version (or
  // the config) failed, even if older versions keep serving; else OK.
  absl::Status LoadModel(const std::string& name);

  // Retires every version of `name`; it stays in the index as UNAVAILABLE
  // "unloaded". A model folder never loaded is left as it is (OK: the index
  // lists it UNAVAILABLE "not loaded"); NOT_FOUND naming the root when
  // neither a folder nor a loaded model has that name.
  absl::Status UnloadModel(const std::string& name);

  // Compares <root> with what is loaded: new model folders are loaded,
  // vanished ones unloaded and forgotten, changed ones (version folders,
  // model.onnx or config.pbtxt size, mtime or ctime, stamped before they
  // are read) reloaded. A model whose last load failed for a reason that may
  // pass (UNAVAILABLE, RESOURCE_EXHAUSTED: an I/O error, memory) is
  // reloaded by every poll until it loads or fails for its files; a bad or
  // unreadable file, or a model oneDNN cannot compile, waits for a change. When root
  // (or a model's folder) cannot be listed, logs it and leaves what is
  // loaded (or that model) as it is.
  void Poll();

  // Server shutdown: every version, loaded now or later, starts its batches
  // without waiting for the queue delay (ModelScheduler::Drain), so the
  // requests already accepted complete promptly. Serving goes on.
  void Drain();

  // The version to run a request on. `version` empty: the highest ready
  // version. INVALID_ARGUMENT if `version` is not a positive integer (as in
  // Triton); UNAVAILABLE "model 'x' is loading" (or "... version N is
  // loading") while a load of the model is under way (queued by LoadAll at
  // start-up or running) and nothing ready answers the request, since it
  // may soon: for a given version, only while that version is being built
  // or the model has not been loaded before (while a loaded model reloads,
  // a version it does not build is NOT_FOUND); NOT_FOUND naming the model
  // (and version) if it is not ready.
  absl::StatusOr<std::shared_ptr<const ServableModel>> Get(absl::string_view name,
                                                           absl::string_view version) const;

  // The repository's folder, as given in Options::root.
  const std::string& root() const { return options_.root; }

  // Whether the repository holds a model of that name, ready or not.
  bool HasModel(absl::string_view name) const;

  // Ready versions of `name`, ascending; empty if none.
  std::vector<int64_t> ReadyVersions(absl::string_view name) const;

  // Whether every model the repository was asked to serve has a ready
  // version: each model loaded (at start, by LoadModel or by Poll) and not
  // unloaded since, and each marked loading (MarkLoading) that has none yet
  // counts. Vacuously true with no model. --strict-readiness's answer.
  bool AllModelsReady() const;

  // Every model and version known, with its state, and every model folder
  // not loaded (UNAVAILABLE, "not loaded"); sorted by name, version.
  // LOADING: a version being built by a load in progress. UNLOADING: a
  // version retired (unloaded, replaced or deselected) that still answers
  // the requests it had accepted. A version that is READY is listed once as
  // READY, except that a failed rebuild of it is also listed, UNAVAILABLE.
  // While a model loads, its earlier failures are not listed.
  std::vector<ModelVersionStatus> Index() const;

 private:
  explicit ModelRepository(const Options& options) : options_(options), reaper_(Reaper::Create()) {}

  struct LoadedVersion {
    std::shared_ptr<const ServableModel> model;
    std::string fingerprint;  // of the files it was built from
  };
  struct ModelEntry {
    std::map<int64_t, LoadedVersion> ready;
    std::vector<ModelVersionStatus> failures;
    std::string fingerprint;  // of the whole model folder, for Poll
    bool unloaded = false;    // by UnloadModel: not expected to serve
  };

  struct Retiring {
    std::string name;
    int64_t version = 0;
    std::weak_ptr<const void> alive;  // ServableModel::alive()
  };

  // Builds the entry `name` should have now, reusing `current` versions
  // whose files did not change. Runs without the mutex; marks the versions
  // it builds in loading_ (cleared by Publish).
  ModelEntry BuildEntry(const std::string& name, const ModelEntry& current);
  // Makes `entry` the one of `name` (erases it when `erase`), clears the
  // loading marks of `name` and records the versions that `entry` replaced
  // in unloading_. On return `entry` holds the replaced entry.
  void Publish(const std::string& name, ModelEntry& entry, bool erase) ABSL_LOCKS_EXCLUDED(mu_);
  ModelEntry CurrentEntry(const std::string& name) const;
  // UNAVAILABLE when a load of `name` (`version`: of that version, 0: of
  // any) is under way, else NOT_FOUND with `not_found`.
  absl::Status NotServingLocked(absl::string_view name, int64_t version,
                                std::string not_found) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The folders under root that can be models, sorted: not hidden (".git",
  // "..data"), not "lost+found", valid UTF-8 names; with `log_refused`, logs
  // each folder left out for its name. UNAVAILABLE when root cannot be
  // listed.
  absl::StatusOr<std::vector<std::string>> ModelFolders(bool log_refused = false) const;

  const Options options_;
  const std::shared_ptr<Reaper> reaper_;
  // Serializes the control methods; never held by the request path.
  absl::Mutex control_mu_;
  mutable absl::Mutex mu_;
  std::map<std::string, ModelEntry, std::less<>> models_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<std::string, int64_t>> loading_ ABSL_GUARDED_BY(mu_);
  // Models a LoadAll or LoadModel is about to load or loading, until their
  // entry is published (or the load found no such folder).
  std::set<std::string, std::less<>> pending_loads_ ABSL_GUARDED_BY(mu_);
  std::vector<Retiring> unloading_ ABSL_GUARDED_BY(mu_);  // pruned in Publish
  bool draining_ ABSL_GUARDED_BY(mu_) = false;            // Drain() was called
  std::atomic<bool> stop_loading_{false};
};

// The versions a config's version_policy selects among `available`
// (ascending). Default policy: the latest one.
std::vector<int64_t> SelectVersions(const VersionPolicy& policy, bool has_policy,
                                    const std::vector<int64_t>& available);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_REPOSITORY_MODEL_REPOSITORY_H_

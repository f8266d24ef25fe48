#include "server/repository/model_repository.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <new>
#include <set>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/utf8.h"
#include "server/model/model_config.h"
#include "spdlog/spdlog.h"

namespace mlpserve {
namespace fs = std::filesystem;

absl::string_view ModelStateName(ModelState state) {
  switch (state) {
    case ModelState::kReady:
      return "READY";
    case ModelState::kUnavailable:
      return "UNAVAILABLE";
    case ModelState::kLoading:
      return "LOADING";
    case ModelState::kUnloading:
      return "UNLOADING";
  }
  return "UNKNOWN";
}

std::vector<int64_t> SelectVersions(const VersionPolicy& policy, bool has_policy,
                                    const std::vector<int64_t>& available) {
  if (available.empty()) return {};
  if (!has_policy || policy.policy_choice_case() == VersionPolicy::POLICY_CHOICE_NOT_SET) {
    return {available.back()};
  }
  switch (policy.policy_choice_case()) {
    case VersionPolicy::kAll:
      return available;
    case VersionPolicy::kLatest: {
      const size_t n = std::max<size_t>(1, policy.latest().num_versions());
      const size_t skip = available.size() > n ? available.size() - n : 0;
      return std::vector<int64_t>(available.begin() + skip, available.end());
    }
    case VersionPolicy::kSpecific: {
      std::vector<int64_t> chosen;
      for (int64_t v : available) {
        const auto& wanted = policy.specific().versions();
        if (std::find(wanted.begin(), wanted.end(), v) != wanted.end()) chosen.push_back(v);
      }
      return chosen;
    }
    case VersionPolicy::POLICY_CHOICE_NOT_SET:
      break;
  }
  return {available.back()};
}

namespace {

// Names of the folders directly under `dir`. UNAVAILABLE naming `dir` when
// it cannot be opened or a read fails part-way (EACCES, ENOENT, EIO, a stale
// NFS handle): a partial list would read as "the other folders were removed".
absl::StatusOr<std::vector<std::string>> SubfolderNames(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec)) names.push_back(it->path().filename().string());
  }
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot list '", dir.string(), "': ", ec.message()));
  }
  return names;
}

// Longest load-error reason kept for the index; the rest is cut, with the
// full length said. The log has the whole message.
constexpr size_t kMaxReasonBytes = 1024;

// Positive integer folder names under `model_dir`, ascending. Only canonical
// decimal names ("7", not "07", "+7" or " 7"), since paths are rebuilt from
// the number: the other folders (and non-numeric ones, as in Triton) are no
// versions; with `ignored`, their names are added there.
absl::StatusOr<std::vector<int64_t>> ListVersions(const fs::path& model_dir,
                                                  std::vector<std::string>* ignored = nullptr) {
  absl::StatusOr<std::vector<std::string>> names = SubfolderNames(model_dir);
  if (!names.ok()) return names.status();
  std::vector<int64_t> versions;
  for (const std::string& name : *names) {
    int64_t v = 0;
    if (absl::SimpleAtoi(name, &v) && v > 0 && std::to_string(v) == name) {
      versions.push_back(v);
    } else if (ignored != nullptr) {
      ignored->push_back(name);
    }
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

// Size, modification and status-change time of a file, "-" when it does not
// exist. The change time moves on chmod and chown too, so a model whose load
// failed on a permission is retried once the permission is fixed.
std::string FileStamp(const fs::path& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "-";
  return absl::StrCat(st.st_size, "@", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, "@",
                      st.st_ctim.tv_sec, ".", st.st_ctim.tv_nsec);
}

// `config_stamp`: FileStamp of config.pbtxt taken before it was read, so an
// edit made while the model loads is seen as a change by the next poll.
std::string VersionStamp(const std::string& config_stamp, const fs::path& model_dir,
                         int64_t version) {
  return absl::StrCat(config_stamp, "|",
                      FileStamp(model_dir / std::to_string(version) / "model.onnx"));
}

// Whether a load that failed with `status` may succeed unchanged later (an
// I/O error, memory): Poll retries those. A bad file (INVALID_ARGUMENT,
// NOT_FOUND), an unreadable one (FAILED_PRECONDITION: a chmod changes its
// stamp) and oneDNN refusing a primitive (INTERNAL: the same every time)
// wait for a change.
bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsResourceExhausted(status);
}

absl::StatusOr<std::string> FolderStamp(const fs::path& model_dir) {
  absl::StatusOr<std::vector<int64_t>> versions = ListVersions(model_dir);
  if (!versions.ok()) return versions.status();
  std::string stamp = FileStamp(model_dir / "config.pbtxt");
  for (int64_t v : *versions) {
    absl::StrAppend(&stamp, ";", v, ":", FileStamp(model_dir / std::to_string(v) / "model.onnx"));
  }
  return stamp;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ModelRepository>> ModelRepository::Create(const Options& options) {
  std::error_code ec;
  if (!fs::is_directory(options.root, ec)) {
    return absl::NotFoundError(
        absl::StrCat("model repository '", options.root, "' is not a directory"));
  }
  if (options.metrics == nullptr) {
    return absl::InvalidArgumentError("model repository needs a metrics registry");
  }
  // An unreadable root (a volume the server's user may not read) would
  // otherwise serve as an empty repository.
  if (absl::StatusOr<std::vector<std::string>> listed = SubfolderNames(options.root);
      !listed.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("model repository: ", listed.status().message()));
  }
  return std::unique_ptr<ModelRepository>(new ModelRepository(options));
}

ModelRepository::~ModelRepository() {
  std::map<std::string, ModelEntry, std::less<>> models;
  {
    absl::MutexLock lock(&mu_);
    models.swap(models_);
  }
  for (const auto& [name, entry] : models) options_.metrics->SetLoadFailures(name, {});
  // Queued requests hold their model: without the drain they would wait out
  // their queue delay, or forever.
  for (const auto& [name, entry] : models) {
    for (const auto& [version, loaded] : entry.ready) loaded.model->scheduler().Drain();
  }
  models.clear();   // last holders hand their models to the reaper, which...
  reaper_->Stop();  // ...has destroyed every version (queues answered) when this returns
}

namespace {

// ServableModel::Load, with running out of memory (a huge graph, oneDNN's
// scratchpads) a load error of that version rather than the end of the
// server.
absl::StatusOr<std::shared_ptr<ServableModel>> LoadVersion(const ServableModel::Options& options) {
  try {
    return ServableModel::Load(options);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(options.model_dir, "/", options.version,
                                                     "/model.onnx: out of memory while "
                                                     "loading model '",
                                                     options.name, "' version ", options.version));
  }
}

}  // namespace

ModelRepository::ModelEntry ModelRepository::BuildEntry(const std::string& name,
                                                        const ModelEntry& current) {
  ModelEntry entry;
  const fs::path model_dir = fs::path(options_.root) / name;
  // Taken before any file is read: a file changed during the load differs
  // from its stamp, so the next poll reloads it. Empty when the folder
  // cannot be listed: the next poll tries again.
  entry.fingerprint = FolderStamp(model_dir).value_or("");
  const std::string config_stamp = FileStamp(model_dir / "config.pbtxt");
  auto fail = [&](int64_t version, const absl::Status& status) {
    if (version > 0) {
      spdlog::error("model '{}' version {} failed to load: {}", name, version,
                    std::string(status.message()));
    } else {
      spdlog::error("model '{}' failed to load: {}", name, std::string(status.message()));
    }
    // Names from config.pbtxt and the ONNX file may hold any bytes: the
    // reason goes into RepositoryIndex, whose strings must be UTF-8.
    entry.failures.push_back({name, version, ModelState::kUnavailable,
                              PrintableText(status.message(), kMaxReasonBytes)});
    // No stamp for a failure that may pass by itself: the next poll retries.
    if (IsTransient(status)) entry.fingerprint.clear();
  };
  // A version that cannot be rebuilt keeps serving as it was.
  auto keep_old = [&](int64_t version) {
    auto old = current.ready.find(version);
    if (old != current.ready.end()) entry.ready[version] = old->second;
  };

  absl::StatusOr<ModelConfig> config = ReadModelConfig(model_dir.string(), name);
  if (!config.ok()) {
    fail(0, config.status());
    for (const auto& [version, loaded] : current.ready) keep_old(version);
    return entry;
  }
  std::vector<std::string> ignored;
  absl::StatusOr<std::vector<int64_t>> listed = ListVersions(model_dir, &ignored);
  for (const std::string& folder : ignored) {
    spdlog::warn("model '{}': folder '{}' is not a version (versions are named 1, 2, ...)", name,
                 PrintableName(folder));
  }
  if (!listed.ok()) {
    fail(0, listed.status());
    for (const auto& [version, loaded] : current.ready) keep_old(version);
    return entry;
  }
  const std::vector<int64_t>& available = *listed;
  const std::vector<int64_t> versions =
      SelectVersions(config->version_policy(), config->has_version_policy(), available);
  if (available.empty()) {
    fail(0, absl::NotFoundError(absl::StrCat(
                model_dir.string(), ": no version folder (<version>/model.onnx) to serve")));
  } else if (versions.empty()) {
    fail(0, absl::NotFoundError(absl::StrCat(
                model_dir.string(), "/config.pbtxt: version_policy selects none of the versions ",
                absl::StrJoin(available, ", "))));
  }
  // Every version to build counts as loading from now on, not only the one
  // being built: a client asking for a later one meanwhile is told to retry
  // (UNAVAILABLE), not that it does not exist.
  std::vector<std::pair<int64_t, std::string>> to_build;  // version, stamp
  for (int64_t version : versions) {
    std::string stamp = VersionStamp(config_stamp, model_dir, version);
    auto old = current.ready.find(version);
    if (old != current.ready.end() && old->second.fingerprint == stamp) {
      entry.ready[version] = old->second;  // unchanged: keeps serving untouched
      continue;
    }
    to_build.emplace_back(version, std::move(stamp));
  }
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [version, stamp] : to_build) loading_.insert({name, version});
  }
  for (const auto& [version, stamp] : to_build) {
    ServableModel::Options options;
    options.model_dir = model_dir.string();
    options.name = name;
    options.version = version;
    options.config = *config;
    options.metrics = options_.metrics;
    options.clock = options_.clock;
    if (options_.on_version_load) options_.on_version_load(name, version);
    absl::StatusOr<std::shared_ptr<ServableModel>> model = LoadVersion(options);
    if (model.ok()) {
      entry.ready[version] = {reaper_->Adopt(*std::move(model)), stamp};
    } else {
      fail(version, model.status());
      keep_old(version);
    }
  }
  // Nothing the policy asks for could be loaded: what served keeps serving.
  if (entry.ready.empty()) entry.ready = current.ready;
  return entry;
}

ModelRepository::ModelEntry ModelRepository::CurrentEntry(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = models_.find(name);
  return it == models_.end() ? ModelEntry() : it->second;
}

absl::StatusOr<std::vector<std::string>> ModelRepository::ModelFolders(bool log_refused) const {
  absl::StatusOr<std::vector<std::string>> listed = SubfolderNames(options_.root);
  if (!listed.ok()) return listed.status();
  std::vector<std::string> names = *std::move(listed);
  auto refused = [&](const std::string& name) {
    // What file systems and tools put next to the models: lost+found on an
    // ext4 volume, .git, .snapshot, Kubernetes' ..data of a mounted volume.
    if (name.front() == '.' || name == "lost+found") return true;
    // A model's name goes into Prometheus labels and protobuf strings.
    if (IsValidUtf8(name)) return false;
    if (log_refused) {
      spdlog::error("model repository '{}': folder '{}' is not served: its name is not valid UTF-8",
                    options_.root, PrintableName(name));
    }
    return true;
  };
  names.erase(std::remove_if(names.begin(), names.end(), refused), names.end());
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status ModelRepository::LoadModel(const std::string& name) {
  // Only a folder the repository lists: a name with '/', "..", or a NUL byte
  // (which the file system would cut short) names none of them.
  absl::StatusOr<std::vector<std::string>> folders = ModelFolders();
  if (!folders.ok()) return folders.status();
  if (!std::binary_search(folders->begin(), folders->end(), name)) {
    return absl::NotFoundError(
        absl::StrCat("model '", ClientText(name), "' is not in repository '", options_.root, "'"));
  }
  absl::Status status = absl::OkStatus();
  {
    absl::MutexLock control(&control_mu_);
    {
      absl::MutexLock lock(&mu_);
      pending_loads_.insert(name);  // until Publish
    }
    ModelEntry entry = BuildEntry(name, CurrentEntry(name));
    if (!entry.failures.empty()) {
      status = absl::InvalidArgumentError(
          absl::StrCat(entry.failures.front().reason,
                       entry.ready.empty() ? "" : " (versions that were serving keep serving)"));
    }
    std::set<int64_t> failed_versions;
    for (const ModelVersionStatus& failure : entry.failures)
      failed_versions.insert(failure.version);
    Publish(name, entry, /*erase=*/false);
    // Failed versions without a serving build export mlpserve_model_ready 0.
    options_.metrics->SetLoadFailures(name, failed_versions);
    // `entry` now holds the replaced versions: dropping them here retires
    // those no request holds any more.
  }
  if (options_.on_change) options_.on_change();
  return status;
}

void ModelRepository::Publish(const std::string& name, ModelEntry& entry, bool erase) {
  absl::MutexLock lock(&mu_);
  unloading_.erase(std::remove_if(unloading_.begin(), unloading_.end(),
                                  [](const Retiring& r) { return r.alive.expired(); }),
                   unloading_.end());
  loading_.erase(loading_.lower_bound({name, INT64_MIN}), loading_.upper_bound({name, INT64_MAX}));
  pending_loads_.erase(name);
  if (draining_) {
    for (const auto& [version, loaded] : entry.ready) loaded.model->scheduler().Drain();
  }
  auto it = models_.find(name);
  if (it == models_.end()) {
    if (!erase) std::swap(models_[name], entry);
    return;
  }
  if (erase) {
    entry = std::move(it->second);
    models_.erase(it);
  } else {
    std::swap(it->second, entry);
  }
  const ModelEntry* now = erase ? nullptr : &models_[name];
  for (const auto& [version, old] : entry.ready) {
    if (now != nullptr) {
      auto kept = now->ready.find(version);
      if (kept != now->ready.end() && kept->second.model == old.model) continue;
    }
    // A retired version gets no new requests: answer its queue now.
    old.model->scheduler().Drain();
    unloading_.push_back({name, version, old.model->alive()});
  }
}

void ModelRepository::Drain() {
  absl::MutexLock lock(&mu_);
  draining_ = true;
  for (const auto& [name, entry] : models_) {
    for (const auto& [version, loaded] : entry.ready) loaded.model->scheduler().Drain();
  }
}

absl::Status ModelRepository::UnloadModel(const std::string& name) {
  {
    absl::MutexLock control(&control_mu_);
    if (!HasModel(name)) {
      // A folder never loaded (RepositoryIndex lists it UNAVAILABLE "not
      // loaded") is as unloaded as it can be: nothing to do, as for a second
      // unload. Only a name with no folder is unknown.
      absl::StatusOr<std::vector<std::string>> folders = ModelFolders();
      if (!folders.ok()) return folders.status();
      if (std::binary_search(folders->begin(), folders->end(), name)) return absl::OkStatus();
      return absl::NotFoundError(absl::StrCat("model '", ClientText(name),
                                              "' is not in repository '", options_.root, "'"));
    }
    ModelEntry retired;
    retired.failures.push_back({name, 0, ModelState::kUnavailable, "unloaded"});
    retired.unloaded = true;
    Publish(name, retired, /*erase=*/false);
    options_.metrics->SetLoadFailures(name, {});
    spdlog::info("model '{}' unloaded ({} version(s) retired)", name, retired.ready.size());
  }
  if (options_.on_change) options_.on_change();
  return absl::OkStatus();
}

void ModelRepository::Poll() {
  absl::StatusOr<std::vector<std::string>> listed = ModelFolders();
  if (!listed.ok()) {
    // A volume hiccup or a folder moved away for a moment: unloading every
    // model would empty the server while its health still says SERVING.
    spdlog::error("model repository '{}': {}; the loaded models keep serving", options_.root,
                  std::string(listed.status().message()));
    return;
  }
  const std::vector<std::string>& folders = *listed;
  std::vector<std::string> vanished;
  std::vector<std::string> changed;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, entry] : models_) {
      if (!std::binary_search(folders.begin(), folders.end(), name)) vanished.push_back(name);
    }
  }
  for (const std::string& name : folders) {
    absl::StatusOr<std::string> stamp = FolderStamp(fs::path(options_.root) / name);
    if (!stamp.ok()) {
      spdlog::error("model '{}': {}; it keeps serving as it is", name,
                    std::string(stamp.status().message()));
      continue;
    }
    if (CurrentEntry(name).fingerprint != *stamp) changed.push_back(name);
  }
  for (const std::string& name : changed) {
    if (stop_loading_.load(std::memory_order_relaxed)) {
      spdlog::warn("model repository '{}': shutting down; changed model '{}' not reloaded",
                   options_.root, name);
      continue;
    }
    spdlog::info("model '{}' changed on disk: reloading", name);
    LoadModel(name).IgnoreError();  // failures are logged and indexed
  }
  for (const std::string& name : vanished) {
    spdlog::info("model '{}' removed from the repository: unloading", name);
    {
      absl::MutexLock control(&control_mu_);
      ModelEntry retired;
      Publish(name, retired, /*erase=*/true);
      options_.metrics->SetLoadFailures(name, {});
    }
    if (options_.on_change) options_.on_change();
  }
}

std::vector<std::string> ModelRepository::MarkLoading(const std::vector<std::string>& only) {
  std::vector<std::string> names = only;
  if (names.empty()) {
    absl::StatusOr<std::vector<std::string>> folders = ModelFolders(/*log_refused=*/true);
    if (folders.ok()) {
      names = *std::move(folders);
    } else {
      spdlog::error("model repository '{}': {}", options_.root,
                    std::string(folders.status().message()));
    }
  }
  absl::MutexLock lock(&mu_);
  pending_loads_.insert(names.begin(), names.end());
  return names;
}

int ModelRepository::LoadAll(const std::vector<std::string>& only) {
  const std::vector<std::string> names = MarkLoading(only);
  size_t found = 0;  // names with a folder (--load-model may name none)
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (stop_loading_.load(std::memory_order_relaxed)) {
      spdlog::warn("model repository '{}': shutting down; {} model(s) not loaded", options_.root,
                   names.size() - i);
      absl::MutexLock lock(&mu_);
      for (size_t j = i; j < names.size(); ++j) pending_loads_.erase(names[j]);
      break;
    }
    absl::Status status = LoadModel(name);
    if (absl::IsNotFound(status)) {
      spdlog::error("{}", std::string(status.message()));
    } else {
      ++found;
    }
    absl::MutexLock lock(&mu_);
    pending_loads_.erase(name);  // also when there was no folder to load
  }
  int ready = 0;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, entry] : models_) ready += static_cast<int>(entry.ready.size());
  }
  if (ready == 0) {
    spdlog::warn("model repository '{}': {} model(s), no version ready: nothing to serve",
                 options_.root, found);
  } else {
    spdlog::info("model repository '{}': {} model(s), {} version(s) ready", options_.root, found,
                 ready);
  }
  return ready;
}

absl::StatusOr<std::shared_ptr<const ServableModel>> ModelRepository::Get(
    absl::string_view name, absl::string_view version) const {
  int64_t wanted = 0;
  if (!version.empty() && (!absl::SimpleAtoi(version, &wanted) || wanted <= 0)) {
    return absl::InvalidArgumentError(absl::StrCat("model '", ClientText(name), "': version '",
                                                   ClientText(version),
                                                   "' is not a positive integer"));
  }
  absl::MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) {
    return NotServingLocked(name, wanted, absl::StrCat("unknown model '", ClientText(name), "'"));
  }
  const auto& ready = it->second.ready;
  // Whether the last load of `name` failed for `version` (0: for any
  // version), counting a failure of the whole model (version 0: a bad
  // config.pbtxt, no version folder). An unloaded model did not fail. The
  // reason is not given here: the index (behind the control token when
  // there is one) and the log have it.
  auto failed = [&](int64_t version) {
    if (it->second.unloaded) return false;
    for (const ModelVersionStatus& failure : it->second.failures) {
      if (version == 0 || failure.version == version || failure.version == 0) return true;
    }
    return false;
  };
  constexpr absl::string_view kWhy =
      " (RepositoryIndex, `mlpserve-client models list` and the server log say why)";
  if (version.empty()) {
    if (ready.empty()) {
      return NotServingLocked(
          name, 0,
          failed(0) ? absl::StrCat("model '", name, "' has no ready version: its load failed", kWhy)
          : it->second.unloaded
              ? absl::StrCat("model '", name, "' has no ready version: it was unloaded")
              : absl::StrCat("model '", name, "' has no ready version"));
    }
    return ready.rbegin()->second.model;
  }
  auto v = ready.find(wanted);
  if (v == ready.end()) {
    return NotServingLocked(
        name, wanted,
        failed(wanted)
            ? absl::StrCat("model '", name, "' version ", wanted, " failed to load", kWhy)
            : absl::StrCat("model '", name, "' version ", wanted, " is not loaded"));
  }
  return v->second.model;
}

absl::Status ModelRepository::NotServingLocked(absl::string_view name, int64_t version,
                                               std::string not_found) const {
  // A model with an entry that is being reloaded knows its versions: a
  // version it is not building is not the one loading. Before its first
  // entry, any version may be.
  const bool pending = pending_loads_.find(name) != pending_loads_.end() &&
                       (version == 0 || models_.find(name) == models_.end());
  const std::string key(name);
  bool building = false;  // a version of the model is being built
  if (version > 0) {
    building = loading_.count({key, version}) > 0;
  } else {
    auto first = loading_.lower_bound({key, INT64_MIN});
    building = first != loading_.end() && first->first == name;
  }
  if (!pending && !building) return absl::NotFoundError(std::move(not_found));
  if (version > 0) {
    return absl::UnavailableError(
        absl::StrCat("model '", name, "' version ", version, " is loading"));
  }
  return absl::UnavailableError(absl::StrCat("model '", name, "' is loading"));
}

bool ModelRepository::AllModelsReady() const {
  absl::MutexLock lock(&mu_);
  for (const auto& [name, entry] : models_) {
    if (!entry.unloaded && entry.ready.empty()) return false;
  }
  for (const std::string& name : pending_loads_) {
    auto it = models_.find(name);
    if (it == models_.end() || it->second.ready.empty()) return false;
  }
  return true;
}

bool ModelRepository::HasModel(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  return models_.find(name) != models_.end();
}

std::vector<int64_t> ModelRepository::ReadyVersions(absl::string_view name) const {
  std::vector<int64_t> versions;
  absl::MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return versions;
  for (const auto& [version, model] : it->second.ready) versions.push_back(version);
  return versions;
}

std::vector<ModelVersionStatus> ModelRepository::Index() const {
  using Key = std::pair<std::string, int64_t>;
  std::vector<ModelVersionStatus> index;
  std::set<Key> listed;  // READY, LOADING and UNLOADING rows
  // Unlistable: the index shows what is loaded, not the folders not loaded.
  const std::vector<std::string> folders = ModelFolders().value_or(std::vector<std::string>{});
  absl::MutexLock lock(&mu_);
  std::set<std::string, std::less<>> loading_names;
  for (const Key& key : loading_) loading_names.insert(key.first);
  for (const auto& [name, entry] : models_) {
    for (const auto& [version, model] : entry.ready) {
      index.push_back({name, version, ModelState::kReady, ""});
      listed.insert({name, version});
    }
  }
  for (const Key& key : loading_) {
    if (listed.insert(key).second) {
      index.push_back({key.first, key.second, ModelState::kLoading, ""});
    }
  }
  for (const Retiring& r : unloading_) {
    if (!r.alive.expired() && listed.insert({r.name, r.version}).second) {
      index.push_back({r.name, r.version, ModelState::kUnloading, ""});
    }
  }
  for (const auto& [name, entry] : models_) {
    for (const ModelVersionStatus& failure : entry.failures) {
      // A load in progress makes the earlier failures of the model stale.
      if (loading_names.count(name) == 0) index.push_back(failure);
    }
  }
  for (const std::string& name : folders) {
    if (models_.find(name) == models_.end() && loading_names.count(name) == 0) {
      index.push_back({name, 0, ModelState::kUnavailable, "not loaded"});
    }
  }
  std::sort(index.begin(), index.end(), [](const auto& a, const auto& b) {
    return std::tie(a.name, a.version) < std::tie(b.name, b.version);
  });
  return index;
}

}  // namespace mlpserve

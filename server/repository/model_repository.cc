#include "server/repository/model_repository.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

absl::StatusOr<std::unique_ptr<ModelRepository>> ModelRepository::Create(const Options& options) {
  std::error_code ec;
  if (!fs::is_directory(options.root, ec)) {
    return absl::NotFoundError(
        absl::StrCat("model repository '", options.root, "' is not a directory"));
  }
  if (options.metrics == nullptr) {
    return absl::InvalidArgumentError("model repository needs a metrics registry");
  }
  return std::unique_ptr<ModelRepository>(new ModelRepository(options));
}

ModelRepository::~ModelRepository() {
  std::map<std::string, ModelEntry, std::less<>> models;
  {
    absl::MutexLock lock(&mu_);
    models.swap(models_);
  }
  // Models drain their queues as they go, outside the lock.
}

namespace {

// Positive integer folder names under `model_dir`, ascending.
std::vector<int64_t> ListVersions(const fs::path& model_dir) {
  std::vector<int64_t> versions;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(model_dir, ec)) {
    int64_t v = 0;
    if (entry.is_directory(ec) && absl::SimpleAtoi(entry.path().filename().string(), &v) && v > 0) {
      versions.push_back(v);
    }
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

}  // namespace

ModelRepository::ModelEntry ModelRepository::LoadModel(const std::string& name) const {
  ModelEntry entry;
  const fs::path model_dir = fs::path(options_.root) / name;
  auto fail = [&](int64_t version, const absl::Status& status) {
    if (version > 0) {
      spdlog::error("model '{}' version {} failed to load: {}", name, version,
                    std::string(status.message()));
    } else {
      spdlog::error("model '{}' failed to load: {}", name, std::string(status.message()));
    }
    entry.failures.push_back(
        {name, version, ModelState::kUnavailable, std::string(status.message())});
  };

  absl::StatusOr<ModelConfig> config = ReadModelConfig(model_dir.string(), name);
  if (!config.ok()) {
    fail(0, config.status());
    return entry;
  }
  const std::vector<int64_t> versions = SelectVersions(
      config->version_policy(), config->has_version_policy(), ListVersions(model_dir));
  if (versions.empty()) {
    fail(0, absl::NotFoundError(absl::StrCat(
                model_dir.string(), ": no version folder (<version>/model.onnx) to serve")));
  }
  for (int64_t version : versions) {
    ServableModel::Options options;
    options.model_dir = model_dir.string();
    options.name = name;
    options.version = version;
    options.config = *config;
    options.metrics = options_.metrics;
    options.clock = options_.clock;
    absl::StatusOr<std::shared_ptr<ServableModel>> model = ServableModel::Load(options);
    if (model.ok()) {
      entry.ready[version] = *std::move(model);
    } else {
      fail(version, model.status());
    }
  }
  return entry;
}

int ModelRepository::LoadAll() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(options_.root, ec)) {
    if (entry.is_directory(ec)) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  int ready = 0;
  for (const std::string& name : names) {
    ModelEntry entry = LoadModel(name);
    ready += static_cast<int>(entry.ready.size());
    absl::MutexLock lock(&mu_);
    models_[name] = std::move(entry);
  }
  spdlog::info("model repository '{}': {} model(s), {} version(s) ready", options_.root,
               names.size(), ready);
  return ready;
}

absl::StatusOr<std::shared_ptr<const ServableModel>> ModelRepository::Get(
    absl::string_view name, absl::string_view version) const {
  int64_t wanted = 0;
  if (!version.empty() && (!absl::SimpleAtoi(version, &wanted) || wanted <= 0)) {
    return absl::NotFoundError(absl::StrCat("model '", name, "' has no version '", version,
                                            "' (versions are positive integers)"));
  }
  absl::MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return absl::NotFoundError(absl::StrCat("unknown model '", name, "'"));
  const auto& ready = it->second.ready;
  if (version.empty()) {
    if (ready.empty()) {
      return absl::NotFoundError(absl::StrCat("model '", name, "' has no ready version"));
    }
    return ready.rbegin()->second;
  }
  auto v = ready.find(wanted);
  if (v == ready.end()) {
    return absl::NotFoundError(
        absl::StrCat("model '", name, "' version ", wanted, " is not loaded"));
  }
  return v->second;
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
  std::vector<ModelVersionStatus> index;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, entry] : models_) {
    for (const auto& [version, model] : entry.ready) {
      index.push_back({name, version, ModelState::kReady, ""});
    }
    index.insert(index.end(), entry.failures.begin(), entry.failures.end());
  }
  std::sort(index.begin(), index.end(), [](const auto& a, const auto& b) {
    return std::tie(a.name, a.version) < std::tie(b.name, b.version);
  });
  return index;
}

}  // namespace mlpserve

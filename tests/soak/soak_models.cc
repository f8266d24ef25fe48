#include "tests/soak/soak_models.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "server/model/onnx_import.h"
#include "tests/model/onnx_test_graph.h"
#include "tests/support/reference_mlp.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace fs = std::filesystem;

namespace {

const std::vector<int64_t> kSteadyDims = {SoakModels::kSteadyFeatures, 64, 64, 4};
const std::vector<int64_t> kRollingDims = {SoakModels::kRollingFeatures, 32, 32, 4};
const std::vector<int64_t> kSlowDims = {SoakModels::kSlowFeatures, 1024, 1024, 1024, 10};

absl::Status WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("soak: cannot write ", path.string()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SoakModels>> SoakModels::Create() {
  std::unique_ptr<SoakModels> models(new SoakModels(MakeTempDir("soak_repo")));
  const fs::path root(models->root_);
  for (const auto& [name, config] : std::vector<std::pair<std::string, std::string>>{
           {"steady",
            "max_batch_size: 64\n"
            "dynamic_batching { max_queue_delay_microseconds: 200 max_queue_size: 512 }\n"},
           {"rolling", "max_batch_size: 16\n"},
           {"slow",
            "max_batch_size: 1\n"
            "dynamic_batching { max_queue_delay_microseconds: 0 max_queue_size: 4 }\n"}}) {
    fs::create_directories(root / name);
    if (absl::Status status = WriteText(root / name / "config.pbtxt", config); !status.ok()) {
      return status;
    }
  }
  for (const auto& [name, dims] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
           {"steady", kSteadyDims}, {"slow", kSlowDims}, {"rolling", kRollingDims}}) {
    if (absl::Status status = models->WriteVersion(name, 1, dims, 1); !status.ok()) return status;
  }
  models->rolling_version_ = 1;
  return models;
}

absl::Status SoakModels::WriteVersion(const std::string& model, int64_t version,
                                      const std::vector<int64_t>& dims, uint32_t seed) {
  // Written beside the repository and renamed in: the poller sees the whole
  // version folder or none of it.
  const fs::path staging =
      fs::path(root_).parent_path() / absl::StrCat(fs::path(root_).filename().string(), ".staging");
  const fs::path folder = staging / absl::StrCat(model, "-", version);
  fs::create_directories(folder);
  const fs::path file = folder / "model.onnx";
  if (absl::Status status = WriteText(file, RandomMlpOnnx(dims, seed)); !status.ok()) {
    return status;
  }
  absl::StatusOr<Mlp> mlp = ImportOnnxFile(file.string());
  if (!mlp.ok()) return mlp.status();
  {
    absl::MutexLock lock(&mu_);
    mlps_[model].emplace(version, *std::move(mlp));
  }
  std::error_code error;
  fs::rename(folder, fs::path(root_) / model / absl::StrCat(version), error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("soak: cannot move ", folder.string(), " into place: ", error.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SoakModels::Roll() {
  const int64_t next = rolling_version_ + 1;
  absl::Status status = WriteVersion("rolling", next, kRollingDims, static_cast<uint32_t>(next));
  if (!status.ok()) return status;
  if (next > 2) {
    std::error_code error;
    fs::remove_all(fs::path(root_) / "rolling" / absl::StrCat(next - 2), error);
  }
  rolling_version_ = next;
  return next;
}

std::vector<float> SoakModels::Reference(const std::string& model, int64_t version,
                                         const std::vector<float>& input, int64_t rows) const {
  absl::MutexLock lock(&mu_);
  auto versions = mlps_.find(model);
  if (versions == mlps_.end()) return {};
  auto mlp = versions->second.find(version);
  if (mlp == versions->second.end()) return {};
  return ReferenceForward(mlp->second, input, rows);
}

}  // namespace mlpserve::testing

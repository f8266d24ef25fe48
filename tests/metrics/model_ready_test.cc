// mlpserve_model_ready for versions that fail to load: 0 (so the alert
// `mlpserve_model_ready == 0` fires) until the version loads, is unloaded or
// leaves the repository. First against the registry alone, then through a
// real repository served in-process and scraped over HTTP.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/metrics/http_server.h"
#include "server/metrics/metrics_registry.h"
#include "tests/metrics/metrics_test_util.h"
#include "tests/metrics/scrape_until.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

namespace fs = std::filesystem;

std::string Ready(const std::string& model, int64_t version) {
  return "mlpserve_model_ready{model=\"" + model + "\",version=\"" + std::to_string(version) +
         "\"}";
}

// The value of `model`'s ready series in a fresh scrape, -1 when absent.
double ScrapeReady(int port, const std::string& model, int64_t version) {
  const HttpResponse r = HttpGet(port, "/metrics");
  EXPECT_EQ(r.status, 200);
  return ValueOr(ParseSamples(r.body), Ready(model, version));
}

class ModelReadyMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<MetricsRegistry>> registry = MetricsRegistry::Create();
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http =
        MetricsHttpServer::Create("127.0.0.1:0", registry_.get());
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = *std::move(http);
  }

  double ReadyValue(const std::string& model, int64_t version) {
    return ScrapeReady(http_->port(), model, version);
  }

  std::unique_ptr<MetricsRegistry> registry_;
  std::unique_ptr<MetricsHttpServer> http_;
};

TEST_F(ModelReadyMetricsTest, FailedVersionIsZeroUntilItLoads) {
  registry_->SetLoadFailures("m", {2});
  EXPECT_EQ(ReadyValue("m", 2), 0);
  EXPECT_EQ(ReadyValue("m", 1), -1);

  std::unique_ptr<ModelMetrics> loaded = registry_->AddModel("m", 2, SmallMlp(), ActivationStats());
  EXPECT_EQ(ReadyValue("m", 2), 0);  // loaded, not ready yet
  loaded->SetReady(true);
  EXPECT_EQ(ReadyValue("m", 2), 1);
  registry_->SetLoadFailures("m", {});  // the load that built it succeeded
  EXPECT_EQ(ReadyValue("m", 2), 1);
  loaded.reset();
  EXPECT_EQ(ReadyValue("m", 2), -1);
}

TEST_F(ModelReadyMetricsTest, ServingBuildKeepsItsValueAndAFailureShowsWhenItGoes) {
  std::unique_ptr<ModelMetrics> serving =
      registry_->AddModel("m", 1, SmallMlp(), ActivationStats());
  serving->SetReady(true);
  registry_->SetLoadFailures("m", {1});  // a rebuild failed; the old build serves
  EXPECT_EQ(ReadyValue("m", 1), 1);
  serving->SetReady(false);
  serving.reset();
  EXPECT_EQ(ReadyValue("m", 1), 0);
  registry_->SetLoadFailures("other", {});  // other models are not touched
  EXPECT_EQ(ReadyValue("m", 1), 0);
  registry_->SetLoadFailures("m", {});
  EXPECT_EQ(ReadyValue("m", 1), -1);
}

TEST_F(ModelReadyMetricsTest, SetReplacesTheModelsFailures) {
  registry_->SetLoadFailures("m", {0, 3});
  registry_->SetLoadFailures("n", {1});
  EXPECT_EQ(ReadyValue("m", 0), 0);
  EXPECT_EQ(ReadyValue("m", 3), 0);
  registry_->SetLoadFailures("m", {3, 4});
  EXPECT_EQ(ReadyValue("m", 0), -1);
  EXPECT_EQ(ReadyValue("m", 3), 0);
  EXPECT_EQ(ReadyValue("m", 4), 0);
  EXPECT_EQ(ReadyValue("n", 1), 0);
}

// A repository of a good model, a model whose only version is not ONNX and a
// model whose config.pbtxt is invalid, served in-process.
class RepositoryModelReadyMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("ready_repo");
    ASSERT_FALSE(root_.empty());
    CopyBundledModel("leaky_mlp", root_);
    WriteGarbage("broken", 1);
    fs::create_directories(fs::path(root_) / "bad_config" / "1");
    fs::copy_file(GoodOnnx(), fs::path(root_) / "bad_config" / "1" / "model.onnx");
    std::ofstream(fs::path(root_) / "bad_config" / "config.pbtxt") << "max_batch_size: -4\n";
    absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start(root_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }

  fs::path GoodOnnx() const {
    return fs::path(MLPSERVE_SOURCE_DIR) / "models/leaky_mlp/1/model.onnx";
  }
  void WriteGarbage(const std::string& model, int64_t version) {
    const fs::path dir = fs::path(root_) / model / std::to_string(version);
    fs::create_directories(dir);
    std::ofstream(dir / "model.onnx") << "not an onnx file";
  }
  double ReadyValue(const std::string& model, int64_t version) {
    return ScrapeReady(server_->metrics_port(), model, version);
  }
  // Waits (bounded) until no version of `model` is UNLOADING: its retired
  // instances are destroyed and their series released.
  bool WaitRetired(const std::string& model) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      bool unloading = false;
      for (const ModelVersionStatus& s : server_->repository().Index()) {
        unloading = unloading || (s.name == model && s.state == ModelState::kUnloading);
      }
      if (!unloading) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  std::string root_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(RepositoryModelReadyMetricsTest, FailedVersionsExportZeroAndTheGoodModelOne) {
  EXPECT_EQ(ReadyValue("leaky_mlp", 1), 1);
  EXPECT_EQ(ReadyValue("broken", 1), 0);
  // Failed before any version was known: version 0, as the index lists it.
  EXPECT_EQ(ReadyValue("bad_config", 0), 0);
  EXPECT_EQ(ReadyValue("bad_config", 1), -1);
  EXPECT_EQ(ScrapeReady(server_->metrics_port(), "broken", 0), -1);
}

TEST_F(RepositoryModelReadyMetricsTest, FixedVersionIsOneAndANewFailureSitsBesideIt) {
  fs::copy_file(GoodOnnx(), fs::path(root_) / "broken" / "1" / "model.onnx",
                fs::copy_options::overwrite_existing);
  ASSERT_TRUE(server_->repository().LoadModel("broken").ok());
  EXPECT_EQ(ReadyValue("broken", 1), 1);

  // Version 2 fails; version 1 keeps serving.
  WriteGarbage("broken", 2);
  EXPECT_FALSE(server_->repository().LoadModel("broken").ok());
  EXPECT_EQ(ReadyValue("broken", 1), 1);
  EXPECT_EQ(ReadyValue("broken", 2), 0);

  // Unloading forgets the failure; version 1's series goes with its instance.
  ASSERT_TRUE(server_->repository().UnloadModel("broken").ok());
  EXPECT_EQ(ReadyValue("broken", 2), -1);
  ASSERT_TRUE(WaitRetired("broken"));
  EXPECT_EQ(ReadyValue("broken", 1), -1);
}

TEST_F(RepositoryModelReadyMetricsTest, RemovedFolderTakesItsFailureAlong) {
  fs::remove_all(fs::path(root_) / "bad_config");
  fs::remove_all(fs::path(root_) / "broken");
  server_->repository().Poll();
  EXPECT_EQ(ReadyValue("bad_config", 0), -1);
  EXPECT_EQ(ReadyValue("broken", 1), -1);
  EXPECT_EQ(ReadyValue("leaky_mlp", 1), 1);
}

TEST_F(RepositoryModelReadyMetricsTest, FailureOfARetiredVersionShowsOnceItIsGone) {
  // A request still holds version 1 when it is unloaded and its reload fails.
  absl::StatusOr<std::shared_ptr<const ServableModel>> held =
      server_->repository().Get("leaky_mlp", "1");
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_TRUE(server_->repository().UnloadModel("leaky_mlp").ok());
  std::ofstream(fs::path(root_) / "leaky_mlp" / "1" / "model.onnx", std::ios::trunc)
      << "not an onnx file";
  EXPECT_FALSE(server_->repository().LoadModel("leaky_mlp").ok());
  held->reset();
  ASSERT_TRUE(WaitRetired("leaky_mlp"));
  EXPECT_EQ(ReadyValue("leaky_mlp", 1), 0);
}

}  // namespace
}  // namespace mlpserve::testing

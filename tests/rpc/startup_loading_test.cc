// A model that is on disk but still loading answers UNAVAILABLE ("is
// loading"), not NOT_FOUND, over real loopback gRPC: at start-up main.cc
// serves gRPC before LoadAll, and NOT_FOUND tells clients the model will
// never exist. ServerLive answers throughout (Kubernetes liveness).
//
// The load is held mid-way without timing: the repository's on_version_load
// hook blocks the loader until the test lets it go on.
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/support/infer_messages.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int kFeatures = 64;  // the bundled leaky_mlp's

// A repository of two copies of the bundled leaky_mlp, "slow" and "then"
// (LoadAll goes in name order), served over loopback gRPC before anything
// is loaded, as main.cc does. While `hold_slow`, the load of "slow" stops
// in the on_version_load hook until `go_on`.
class StartupLoadingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("startup_repo");
    for (const char* name : {"slow", "then"}) {
      fs::create_directories(fs::path(root_) / name / "1");
      fs::copy_file(fs::path(MLPSERVE_SOURCE_DIR) / "models/leaky_mlp/1/model.onnx",
                    fs::path(root_) / name / "1" / "model.onnx");
    }
    TestServer::Options options;
    options.load_all = false;  // the tests call LoadAll
    options.on_version_load = [this](const std::string& model, int64_t version) {
      if (model != "slow" || !hold_slow_) return;
      EXPECT_EQ(version, 1);
      load_started_.Notify();
      go_on_.WaitForNotification();
    };
    absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start(root_, options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
  }

  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }

  grpc::Status Infer(const std::string& name, const std::string& version = "") {
    grpc::ClientContext context;
    inference::ModelInferRequest request =
        MakeInferRequest(name, std::vector<float>(kFeatures, 0.5f), 1);
    request.set_model_version(version);
    inference::ModelInferResponse response;
    return stub_->ModelInfer(&context, request, &response);
  }

  // ModelInfer, ModelMetadata and ModelConfig answer UNAVAILABLE "is loading", and
  // ModelReady OK with ready = false.
  void ExpectLoading(const std::string& name, const std::string& version = "") {
    SCOPED_TRACE("model '" + name + "' version '" + version + "'");
    const grpc::Status infer = Infer(name, version);
    EXPECT_EQ(infer.error_code(), grpc::StatusCode::UNAVAILABLE) << infer.error_message();
    EXPECT_THAT(infer.error_message(), HasSubstr("model '" + name + "'"));
    EXPECT_THAT(infer.error_message(), HasSubstr("is loading"));

    grpc::ClientContext metadata_context;
    inference::ModelMetadataRequest metadata_request;
    metadata_request.set_name(name);
    metadata_request.set_version(version);
    inference::ModelMetadataResponse metadata;
    const grpc::Status meta = stub_->ModelMetadata(&metadata_context, metadata_request, &metadata);
    EXPECT_EQ(meta.error_code(), grpc::StatusCode::UNAVAILABLE) << meta.error_message();

    grpc::ClientContext config_context;
    inference::ModelConfigRequest config_request;
    config_request.set_name(name);
    config_request.set_version(version);
    inference::ModelConfigResponse config;
    const grpc::Status config_status = stub_->ModelConfig(&config_context, config_request, &config);
    EXPECT_EQ(config_status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << config_status.error_message();
    EXPECT_THAT(config_status.error_message(), HasSubstr("is loading"));

    grpc::ClientContext ready_context;
    inference::ModelReadyRequest ready_request;
    ready_request.set_name(name);
    ready_request.set_version(version);
    inference::ModelReadyResponse ready;
    ready.set_ready(true);
    EXPECT_TRUE(stub_->ModelReady(&ready_context, ready_request, &ready).ok());
    EXPECT_FALSE(ready.ready());
  }

  std::string root_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  std::atomic<bool> hold_slow_{true};
  absl::Notification load_started_;
  absl::Notification go_on_;
};

TEST_F(StartupLoadingTest, ModelStillLoadingIsUnavailableNotNotFound) {
  std::thread loader([&] { server_->repository().LoadAll(); });
  load_started_.WaitForNotification();  // the load of "slow" is under way
  bool finished = false;
  auto finish_load = [&] {
    if (finished) return;
    finished = true;
    go_on_.Notify();
    loader.join();
  };
  absl::Cleanup end_load = finish_load;  // on any way out, a failed ASSERT too

  {
    grpc::ClientContext context;
    inference::ServerLiveResponse live;
    EXPECT_TRUE(stub_->ServerLive(&context, {}, &live).ok());
    EXPECT_TRUE(live.live());
  }
  ExpectLoading("slow");
  ExpectLoading("slow", "1");
  // Its load has not begun yet: LoadAll marked it with the others.
  ExpectLoading("then");
  // A model the repository does not have is still NOT_FOUND meanwhile.
  EXPECT_EQ(Infer("no_such_model").error_code(), grpc::StatusCode::NOT_FOUND);

  finish_load();
  const grpc::Status loaded = Infer("slow");
  EXPECT_TRUE(loaded.ok()) << loaded.error_message();
}

// main.cc marks the models before gRPC serves, so even a request that comes
// before LoadAll has listed anything hears "is loading"; a marked model
// whose folder is gone by its turn ends NOT_FOUND, not loading for ever.
TEST_F(StartupLoadingTest, MarkedModelsAreLoadingBeforeLoadAllBegins) {
  hold_slow_ = false;
  EXPECT_EQ(Infer("then").error_code(), grpc::StatusCode::NOT_FOUND);  // not marked yet
  const std::vector<std::string> names = server_->repository().MarkLoading();
  EXPECT_THAT(names, ElementsAre("slow", "then"));
  ExpectLoading("slow");
  ExpectLoading("then");

  fs::remove_all(fs::path(root_) / "then");
  EXPECT_EQ(server_->repository().LoadAll(names), 1);
  const grpc::Status slow = Infer("slow");
  EXPECT_TRUE(slow.ok()) << slow.error_message();
  const grpc::Status then = Infer("then");
  EXPECT_EQ(then.error_code(), grpc::StatusCode::NOT_FOUND) << then.error_message();
}

}  // namespace
}  // namespace mlpserve::testing

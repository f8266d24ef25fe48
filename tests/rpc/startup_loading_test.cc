// A model that is on disk but still loading answers UNAVAILABLE ("is
// loading"), not NOT_FOUND, over real loopback gRPC: at start-up main.cc
// serves gRPC before LoadAll, and NOT_FOUND tells clients the model will
// never exist. ServerLive answers throughout (Kubernetes liveness).
//
// The load is held mid-way without timing: the repository's on_version_load
// hook blocks the loader until the test lets it go on.
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
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/rpc/grpc_server.h"
#include "server/rpc/inference_service.h"
#include "tests/support/infer_messages.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int kFeatures = 64;  // the bundled leaky_mlp's

TEST(StartupLoadingTest, ModelStillLoadingIsUnavailableNotNotFound) {
  const std::string root = MakeTempDir("startup_repo");
  fs::create_directories(fs::path(root) / "slow" / "1");
  fs::copy_file(fs::path(MLPSERVE_SOURCE_DIR) / "models/leaky_mlp/1/model.onnx",
                fs::path(root) / "slow" / "1" / "model.onnx");
  // Loaded after "slow" (LoadAll goes in name order): while "slow" is held,
  // its load has not begun, and it must already answer "is loading".
  fs::create_directories(fs::path(root) / "then" / "1");
  fs::copy_file(fs::path(MLPSERVE_SOURCE_DIR) / "models/leaky_mlp/1/model.onnx",
                fs::path(root) / "then" / "1" / "model.onnx");

  absl::StatusOr<std::unique_ptr<MetricsRegistry>> metrics = MetricsRegistry::Create();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ModelRepository::Options repository_options;
  repository_options.root = root;
  repository_options.metrics = metrics->get();
  absl::Notification load_started;
  absl::Notification go_on;
  repository_options.on_version_load = [&](const std::string& model, int64_t version) {
    if (model != "slow") return;
    EXPECT_EQ(version, 1);
    load_started.Notify();
    go_on.WaitForNotification();
  };
  absl::StatusOr<std::unique_ptr<ModelRepository>> repository =
      ModelRepository::Create(repository_options);
  ASSERT_TRUE(repository.ok()) << repository.status();
  InferenceService::Options service_options;
  service_options.repository = repository->get();
  service_options.metrics = metrics->get();
  InferenceService service(service_options);
  GrpcServer::Options grpc_options;
  grpc_options.address = "127.0.0.1:0";
  grpc_options.service = &service;
  absl::StatusOr<std::unique_ptr<GrpcServer>> grpc = GrpcServer::Start(grpc_options);
  ASSERT_TRUE(grpc.ok()) << grpc.status();
  auto stub = inference::GRPCInferenceService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*grpc)->port()), grpc::InsecureChannelCredentials()));

  // main.cc's order: serving first, then the repository loads.
  std::thread loader([&] { (*repository)->LoadAll(); });
  load_started.WaitForNotification();  // the load is under way
  bool finished = false;
  auto finish_load = [&] {
    if (finished) return;
    finished = true;
    go_on.Notify();
    loader.join();
  };
  absl::Cleanup end_load = finish_load;  // on any way out, a failed ASSERT too

  {
    grpc::ClientContext context;
    inference::ServerLiveResponse live;
    EXPECT_TRUE(stub->ServerLive(&context, {}, &live).ok());
    EXPECT_TRUE(live.live());
  }
  const std::vector<float> row(kFeatures, 0.5f);
  for (const auto& [name, version] : std::vector<std::pair<std::string, std::string>>{
           {"slow", ""}, {"slow", "1"}, {"then", ""}}) {
    SCOPED_TRACE("model '" + name + "' version '" + version + "'");
    grpc::ClientContext infer_context;
    inference::ModelInferRequest request = MakeInferRequest(name, row, 1);
    request.set_model_version(version);
    inference::ModelInferResponse response;
    const grpc::Status infer = stub->ModelInfer(&infer_context, request, &response);
    EXPECT_EQ(infer.error_code(), grpc::StatusCode::UNAVAILABLE) << infer.error_message();
    EXPECT_THAT(infer.error_message(), HasSubstr("model '" + name + "'"));
    EXPECT_THAT(infer.error_message(), HasSubstr("is loading"));

    grpc::ClientContext metadata_context;
    inference::ModelMetadataRequest metadata_request;
    metadata_request.set_name(name);
    metadata_request.set_version(version);
    inference::ModelMetadataResponse metadata;
    const grpc::Status meta = stub->ModelMetadata(&metadata_context, metadata_request, &metadata);
    EXPECT_EQ(meta.error_code(), grpc::StatusCode::UNAVAILABLE) << meta.error_message();

    grpc::ClientContext ready_context;
    inference::ModelReadyRequest ready_request;
    ready_request.set_name(name);
    ready_request.set_version(version);
    inference::ModelReadyResponse ready;
    ready.set_ready(true);
    EXPECT_TRUE(stub->ModelReady(&ready_context, ready_request, &ready).ok());
    EXPECT_FALSE(ready.ready());
  }
  {
    // A model the repository does not have is still NOT_FOUND meanwhile.
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    EXPECT_EQ(stub->ModelInfer(&context, MakeInferRequest("no_such_model", row, 1), &response)
                  .error_code(),
              grpc::StatusCode::NOT_FOUND);
  }

  finish_load();
  grpc::ClientContext context;
  inference::ModelInferResponse response;
  const grpc::Status loaded =
      stub->ModelInfer(&context, MakeInferRequest("slow", row, 1), &response);
  EXPECT_TRUE(loaded.ok()) << loaded.error_message();
  (*grpc)->Shutdown(absl::ZeroDuration());
  fs::remove_all(root);
}

}  // namespace
}  // namespace mlpserve::testing

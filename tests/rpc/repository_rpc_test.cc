// The repository extension's request fields over real loopback gRPC in
// explicit model control: parameters mlpserve does not support and
// repository names it does not serve are refused with INVALID_ARGUMENT
// naming them, and change nothing; what it supports still works.
#include <filesystem>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class RepositoryRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("repository_rpc");
    CopyBundledModel("leaky_mlp", root_);
    absl::StatusOr<std::unique_ptr<TestServer>> server =
        TestServer::Start(root_, /*model_control=*/true);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }

  grpc::Status Load(const inference::RepositoryModelLoadRequest& request) {
    grpc::ClientContext context;
    inference::RepositoryModelLoadResponse response;
    return stub_->RepositoryModelLoad(&context, request, &response);
  }
  grpc::Status Unload(const inference::RepositoryModelUnloadRequest& request) {
    grpc::ClientContext context;
    inference::RepositoryModelUnloadResponse response;
    return stub_->RepositoryModelUnload(&context, request, &response);
  }
  bool Ready() { return !server_->repository().ReadyVersions("leaky_mlp").empty(); }

  std::string root_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

TEST_F(RepositoryRpcTest, LoadRefusesEveryParameterNamingIt) {
  for (const std::string name : {"config", "file:1/model.onnx", "anything"}) {
    SCOPED_TRACE(name);
    inference::RepositoryModelLoadRequest request;
    request.set_model_name("leaky_mlp");
    (*request.mutable_parameters())[name].set_string_param("{}");
    const grpc::Status status = Load(request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("parameter '" + name + "' is not supported"));
  }
  // Nothing was unloaded or reloaded on the way; without parameters it loads.
  EXPECT_TRUE(Ready());
  inference::RepositoryModelLoadRequest plain;
  plain.set_model_name("leaky_mlp");
  EXPECT_TRUE(Load(plain).ok());
}

TEST_F(RepositoryRpcTest, OnlyTheServedRepositoryNameIsAccepted) {
  const std::string base = fs::path(root_).filename().string();
  // The path as given, or spelt with a trailing or doubled slash.
  const std::string slashed = root_ + "/";
  const std::string doubled = fs::path(root_).parent_path().string() + "//" + base;
  for (const std::string& name : {std::string(), root_, base, slashed, doubled}) {
    SCOPED_TRACE("'" + name + "'");
    inference::RepositoryModelLoadRequest request;
    request.set_repository_name(name);
    request.set_model_name("leaky_mlp");
    EXPECT_TRUE(Load(request).ok());
    grpc::ClientContext context;
    inference::RepositoryIndexRequest index_request;
    index_request.set_repository_name(name);
    inference::RepositoryIndexResponse index;
    EXPECT_TRUE(stub_->RepositoryIndex(&context, index_request, &index).ok());
  }

  inference::RepositoryModelLoadRequest load;
  load.set_repository_name("other_repo");
  load.set_model_name("leaky_mlp");
  grpc::Status status = Load(load);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("unknown repository 'other_repo'"));
  EXPECT_THAT(status.error_message(), HasSubstr("'" + base + "'"));

  inference::RepositoryModelUnloadRequest unload;
  unload.set_repository_name("other_repo");
  unload.set_model_name("leaky_mlp");
  status = Unload(unload);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("unknown repository 'other_repo'"));
  EXPECT_TRUE(Ready());  // the refused unload unloaded nothing

  grpc::ClientContext context;
  inference::RepositoryIndexRequest index_request;
  index_request.set_repository_name("other_repo");
  inference::RepositoryIndexResponse index;
  EXPECT_EQ(stub_->RepositoryIndex(&context, index_request, &index).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(RepositoryRpcTest, UnloadTakesOnlyABoolUnloadDependents) {
  inference::RepositoryModelUnloadRequest request;
  request.set_model_name("leaky_mlp");
  (*request.mutable_parameters())["unload_dependents"].set_string_param("true");
  grpc::Status status = Unload(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("parameter 'unload_dependents'"));

  request.mutable_parameters()->clear();
  (*request.mutable_parameters())["cascade"].set_bool_param(true);
  status = Unload(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("parameter 'cascade' is not supported"));
  EXPECT_TRUE(Ready());

  request.mutable_parameters()->clear();
  (*request.mutable_parameters())["unload_dependents"].set_bool_param(true);
  status = Unload(request);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(Ready());
}

// In explicit mode a model folder need not be loaded: RepositoryIndex lists
// it UNAVAILABLE "not loaded", and unloading it is a no-op that succeeds, as
// a second unload does. Only a name with no folder is NOT_FOUND.
TEST(RepositoryUnloadTest, UnloadOfAFolderNeverLoadedIsANoOp) {
  const std::string root = MakeTempDir("repository_unload");
  CopyBundledModel("leaky_mlp", root);
  TestServer::Options options;
  options.model_control = true;
  options.load_all = false;
  absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start(root, options);
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub = (*server)->NewStub();
  auto unload = [&](const std::string& name) {
    grpc::ClientContext context;
    inference::RepositoryModelUnloadRequest request;
    request.set_model_name(name);
    inference::RepositoryModelUnloadResponse response;
    return stub->RepositoryModelUnload(&context, request, &response);
  };
  auto index = [&] {
    grpc::ClientContext context;
    inference::RepositoryIndexResponse response;
    EXPECT_TRUE(stub->RepositoryIndex(&context, {}, &response).ok());
    return response;
  };
  ASSERT_EQ(index().models_size(), 1);
  EXPECT_EQ(index().models(0).reason(), "not loaded");

  grpc::Status status = unload("leaky_mlp");
  EXPECT_TRUE(status.ok()) << status.error_message();
  inference::RepositoryIndexResponse after = index();
  ASSERT_EQ(after.models_size(), 1);
  EXPECT_EQ(after.models(0).state(), "UNAVAILABLE");
  EXPECT_EQ(after.models(0).reason(), "not loaded");

  status = unload("nope");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("model 'nope' is not in repository '" + root));

  // It still loads, and unloads, as any model.
  grpc::ClientContext context;
  inference::RepositoryModelLoadRequest load;
  load.set_model_name("leaky_mlp");
  inference::RepositoryModelLoadResponse loaded;
  ASSERT_TRUE(stub->RepositoryModelLoad(&context, load, &loaded).ok());
  EXPECT_FALSE((*server)->repository().ReadyVersions("leaky_mlp").empty());
  EXPECT_TRUE(unload("leaky_mlp").ok());
  EXPECT_TRUE((*server)->repository().ReadyVersions("leaky_mlp").empty());
  server->reset();
  fs::remove_all(root);
}

}  // namespace
}  // namespace mlpserve::testing

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

}  // namespace
}  // namespace mlpserve::testing

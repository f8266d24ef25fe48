// Bearer-token authentication: which RPCs need the token, and that the token
// never reaches the log.
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "s3cr3t-t0ken-for-tests";

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("auth");
    token_file_ = dir_ + "/token";
    std::ofstream(token_file_) << kToken << "\n";
  }

  static grpc::Status Infer(const ServerProcess& server, const std::string& token) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    inference::ModelInferRequest request;
    request.set_model_name("leaky_mlp");
    auto* input = request.add_inputs();
    input->set_name("input");
    input->set_datatype("FP32");
    input->add_shape(1);
    input->add_shape(64);
    for (int i = 0; i < 64; ++i) input->mutable_contents()->add_fp32_contents(0.25f);
    inference::ModelInferResponse response;
    return server.Stub()->ModelInfer(&context, request, &response);
  }

  static grpc::Status Config(const ServerProcess& server, const std::string& token) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    inference::ModelConfigRequest request;
    request.set_name("leaky_mlp");
    inference::ModelConfigResponse response;
    return server.Stub()->ModelConfig(&context, request, &response);
  }

  static grpc::Status Live(const ServerProcess& server) {
    grpc::ClientContext context;
    inference::ServerLiveResponse response;
    return server.Stub()->ServerLive(&context, {}, &response);
  }

  std::string dir_;
  std::string token_file_;
};

TEST_F(AuthTest, InferenceNeedsTheTokenOnlyWithAuthInference) {
  ServerProcess open(kBundledModels, {"--auth-token-file", token_file_});
  ASSERT_TRUE(open.ready()) << open.log();
  EXPECT_TRUE(Infer(open, "").ok());
  EXPECT_TRUE(Config(open, "").ok());

  ServerProcess closed(kBundledModels, {"--auth-token-file", token_file_, "--auth-inference"});
  ASSERT_TRUE(closed.ready()) << closed.log();
  grpc::Status without = Infer(closed, "");
  EXPECT_EQ(without.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(without.error_message(), HasSubstr("ModelInfer needs 'authorization: Bearer"));
  EXPECT_EQ(Infer(closed, "wrong").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Infer(closed, std::string(kToken) + "x").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Infer(closed, kToken).ok());
  // ModelConfig follows ModelMetadata's rule.
  grpc::Status config = Config(closed, "");
  EXPECT_EQ(config.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(config.error_message(), HasSubstr("ModelConfig needs 'authorization: Bearer"));
  EXPECT_TRUE(Config(closed, kToken).ok());
  EXPECT_TRUE(Live(closed).ok()) << "liveness stays open for probes";
  EXPECT_EQ(closed.Stop(), std::optional<int>(0));
  EXPECT_THAT(closed.log(), Not(HasSubstr(kToken)));
}

// One token file for both: written on Windows (CRLF) it still matches.
TEST_F(AuthTest, TheClientReadsTheTokenFileAsTheServerDoes) {
  std::ofstream(token_file_, std::ios::binary | std::ios::trunc) << "  " << kToken << "\r\n";
  ServerProcess closed(kBundledModels, {"--auth-token-file", token_file_, "--auth-inference"});
  ASSERT_TRUE(closed.ready()) << closed.log();
  EXPECT_TRUE(Infer(closed, kToken).ok());
  RunResult infer = RunCommand({kClientBinary, "--url", closed.url(), "--token-file", token_file_,
                                "infer", "leaky_mlp", "--random"});
  EXPECT_EQ(infer.exit_code, 0) << infer.output;
  EXPECT_THAT(infer.output, HasSubstr("\"outputs\""));
}

TEST_F(AuthTest, AuthInferenceWithoutATokenFileIsRefused) {
  RunResult result =
      RunCommand({kServerBinary, "--model-repository", kBundledModels, "--grpc-address",
                  "127.0.0.1:0", "--metrics-address", "127.0.0.1:0", "--auth-inference"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.output, HasSubstr("--auth-inference needs --auth-token-file"));
}

}  // namespace
}  // namespace mlpserve::testing

// Bearer-token authentication: which RPCs need the token, and that the token
// never reaches the log.
#include <cctype>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "tests/support/generic_call.h"
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

// Calls `method` ("/package.Service/Method") with an empty request message
// (which every request type parses) and `authorization` as that metadata
// when not empty.
grpc::Status CallWithAuthorization(const ServerProcess& server, const std::string& method,
                                   const std::string& authorization) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  if (method == "/inference.GRPCInferenceService/ModelStreamInfer") {
    auto stream = server.Stub()->ModelStreamInfer(&context);
    stream->WritesDone();
    return stream->Finish();
  }
  grpc::GenericStub stub(grpc::CreateChannel(server.url(), grpc::InsecureChannelCredentials()));
  return GenericUnaryCall(stub, context, method, "");
}

// Who needs the token, as README's "Security and limits" and flag table say:
// --auth-token-file closes the repository (model control) RPCs;
// --auth-inference also inference, model metadata, configuration, readiness
// and statistics. Liveness, readiness, server metadata and grpc.health.v1
// stay open for probes. RPCs mlpserve does not serve answer UNIMPLEMENTED
// to anyone (the answer reveals nothing).
enum class Guard { kOpen, kControl, kInference, kUnsupported };

const std::map<std::string, Guard>& Guards() {
  static const auto* guards = new std::map<std::string, Guard>{
      {"ServerLive", Guard::kOpen},
      {"ServerReady", Guard::kOpen},
      {"ServerMetadata", Guard::kOpen},
      {"ModelReady", Guard::kInference},
      {"ModelMetadata", Guard::kInference},
      {"ModelConfig", Guard::kInference},
      {"ModelInfer", Guard::kInference},
      {"ModelStatistics", Guard::kInference},
      {"RepositoryIndex", Guard::kControl},
      {"RepositoryModelLoad", Guard::kControl},
      {"RepositoryModelUnload", Guard::kControl},
      {"ModelStreamInfer", Guard::kUnsupported},
      {"SystemSharedMemoryStatus", Guard::kUnsupported},
      {"SystemSharedMemoryRegister", Guard::kUnsupported},
      {"SystemSharedMemoryUnregister", Guard::kUnsupported},
      {"CudaSharedMemoryStatus", Guard::kUnsupported},
      {"CudaSharedMemoryRegister", Guard::kUnsupported},
      {"CudaSharedMemoryUnregister", Guard::kUnsupported},
      {"TraceSetting", Guard::kUnsupported},
      {"LogSettings", Guard::kUnsupported},
  };
  return *guards;
}

// Every RPC of the service (from the generated descriptor: an RPC added to
// the proto without a row in Guards() fails here) and health's Check.
TEST_F(AuthTest, EveryRpcIsOpenOrClosedAsTheReadmeSays) {
  const google::protobuf::ServiceDescriptor* service =
      inference::ModelInferRequest::descriptor()->file()->FindServiceByName("GRPCInferenceService");
  ASSERT_NE(service, nullptr);
  std::vector<std::pair<std::string, Guard>> methods;
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string& name = service->method(i)->name();
    auto it = Guards().find(name);
    ASSERT_NE(it, Guards().end()) << name << " has no row in Guards(): decide who may call it";
    methods.push_back({absl::StrCat("/", service->full_name(), "/", name), it->second});
  }
  EXPECT_EQ(methods.size(), Guards().size());
  methods.push_back({"/grpc.health.v1.Health/Check", Guard::kOpen});

  for (bool auth_inference : {false, true}) {
    std::vector<std::string> flags = {"--auth-token-file", token_file_};
    if (auth_inference) flags.push_back("--auth-inference");
    ServerProcess server(kBundledModels, flags);
    ASSERT_TRUE(server.ready()) << server.log();
    for (const auto& [method, guard] : methods) {
      const bool closed =
          guard == Guard::kControl || (guard == Guard::kInference && auth_inference);
      for (const std::string& authorization :
           {std::string(), std::string("Bearer wrong"), absl::StrCat("Bearer ", kToken)}) {
        SCOPED_TRACE(absl::StrCat(method, auth_inference ? " with" : " without",
                                  " --auth-inference, authorization '", authorization, "'"));
        const bool authenticated = authorization == absl::StrCat("Bearer ", kToken);
        const grpc::Status status = CallWithAuthorization(server, method, authorization);
        if (guard == Guard::kUnsupported) {
          EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
        } else if (closed && !authenticated) {
          EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
              << status.error_message();
        } else {
          EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
              << status.error_message();
        }
      }
    }
    EXPECT_EQ(server.Stop(), std::optional<int>(0));
  }
}

// RFC 7235: the scheme is case-insensitive and followed by one or more
// spaces; the token is case-sensitive, and the scheme needs its space.
TEST_F(AuthTest, TheBearerSchemeIsCaseInsensitive) {
  ServerProcess server(kBundledModels, {"--auth-token-file", token_file_});
  ASSERT_TRUE(server.ready()) << server.log();
  const std::string index = "/inference.GRPCInferenceService/RepositoryIndex";
  for (const char* scheme : {"Bearer ", "bearer ", "BEARER ", "bEaReR ", "Bearer   "}) {
    SCOPED_TRACE(scheme);
    const grpc::Status status = CallWithAuthorization(server, index, scheme + std::string(kToken));
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  std::string upper_token = kToken;
  for (char& c : upper_token) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& refused :
       {"Basic " + std::string(kToken), "Bearer" + std::string(kToken), "Bearer " + upper_token,
        std::string(kToken), "Bearer " + std::string(kToken) + " "}) {
    SCOPED_TRACE(refused);
    EXPECT_EQ(CallWithAuthorization(server, index, refused).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
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

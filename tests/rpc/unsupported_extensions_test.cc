// Triton's RPCs for extensions mlpserve does not serve, over real loopback
// gRPC with the generated stub: each answers UNIMPLEMENTED with a message
// naming the RPC and what to do instead (gRPC alone answers an empty one),
// and its messages carry Triton's field numbers.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Stub = inference::GRPCInferenceService::Stub;

class UnsupportedExtensionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("unsupported_extensions");
    CopyBundledModel("leaky_mlp", root_);
    absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start(root_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(root_);
  }

  std::string root_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<Stub> stub_;
};

// Calls a unary RPC with a default request and a deadline.
template <typename Request, typename Response>
grpc::Status Call(Stub& stub,
                  grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*)) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  Response response;
  return (stub.*rpc)(&context, Request(), &response);
}

TEST_F(UnsupportedExtensionsTest, EachUnaryRpcSaysItIsNotServedAndWhatToDo) {
  struct Case {
    const char* rpc;
    std::function<grpc::Status(Stub&)> call;
    const char* hint;
  };
  const Case cases[] = {
      {"SystemSharedMemoryStatus", [](Stub& s) { return Call(s, &Stub::SystemSharedMemoryStatus); },
       "no system shared memory extension: send input tensors in the request "
       "(raw_input_contents)"},
      {"SystemSharedMemoryRegister",
       [](Stub& s) { return Call(s, &Stub::SystemSharedMemoryRegister); },
       "no system shared memory extension"},
      {"SystemSharedMemoryUnregister",
       [](Stub& s) { return Call(s, &Stub::SystemSharedMemoryUnregister); },
       "no system shared memory extension"},
      {"CudaSharedMemoryStatus", [](Stub& s) { return Call(s, &Stub::CudaSharedMemoryStatus); },
       "no CUDA shared memory extension (it runs on CPUs): send input tensors in the request"},
      {"CudaSharedMemoryRegister", [](Stub& s) { return Call(s, &Stub::CudaSharedMemoryRegister); },
       "no CUDA shared memory extension"},
      {"CudaSharedMemoryUnregister",
       [](Stub& s) { return Call(s, &Stub::CudaSharedMemoryUnregister); },
       "no CUDA shared memory extension"},
      {"TraceSetting", [](Stub& s) { return Call(s, &Stub::TraceSetting); },
       "no trace extension: use its Prometheus metrics"},
      {"LogSettings", [](Stub& s) { return Call(s, &Stub::LogSettings); },
       "no logging extension: set its log level at start (mlpserve --log-level)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rpc);
    const grpc::Status status = c.call(*stub_);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_THAT(status.error_message(), StartsWith(std::string(c.rpc) + ": mlpserve has no "));
    EXPECT_THAT(status.error_message(), HasSubstr(c.hint));
  }
}

// tritonclient's start_stream / async_stream_infer: the stream ends at once,
// whether the client has sent a request or not.
TEST_F(UnsupportedExtensionsTest, ModelStreamInferEndsTheStreamNamingModelInfer) {
  for (bool write : {false, true}) {
    SCOPED_TRACE(write ? "after a request" : "before any request");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stream = stub_->ModelStreamInfer(&context);
    if (write) {
      inference::ModelInferRequest request;
      request.set_model_name("leaky_mlp");
      stream->Write(request);  // may fail: the server may have ended the stream already
    }
    stream->WritesDone();
    inference::ModelStreamInferResponse response;
    EXPECT_FALSE(stream->Read(&response));
    const grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_THAT(status.error_message(),
                StartsWith("ModelStreamInfer: mlpserve has no streaming inference: send each "
                           "request with the unary ModelInfer"));
  }
  // The server serves on.
  grpc::ClientContext context;
  inference::ServerLiveResponse live;
  EXPECT_TRUE(stub_->ServerLive(&context, {}, &live).ok());
}

// Bytes as Triton's grpc_service.proto declares the fields, encoded by hand,
// decode into mlpserve's declarations of them.
TEST(UnsupportedExtensionsWireTest, FieldNumbersAreTritons) {
  auto bytes = [](std::initializer_list<uint8_t> b) { return std::string(b.begin(), b.end()); };
  inference::SystemSharedMemoryRegisterRequest system;
  // name = 1 "r"; key = 2 "k"; offset = 3 (varint) 8; byte_size = 4 (varint) 16
  ASSERT_TRUE(system.ParseFromString(bytes({0x0a, 1, 'r', 0x12, 1, 'k', 0x18, 8, 0x20, 16})));
  EXPECT_EQ(system.name(), "r");
  EXPECT_EQ(system.key(), "k");
  EXPECT_EQ(system.offset(), 8u);
  EXPECT_EQ(system.byte_size(), 16u);

  inference::CudaSharedMemoryRegisterRequest cuda;
  // name = 1 "g"; raw_handle = 2 "h"; device_id = 3 (varint) 1; byte_size = 4 (varint) 4
  ASSERT_TRUE(cuda.ParseFromString(bytes({0x0a, 1, 'g', 0x12, 1, 'h', 0x18, 1, 0x20, 4})));
  EXPECT_EQ(cuda.raw_handle(), "h");
  EXPECT_EQ(cuda.device_id(), 1);
  EXPECT_EQ(cuda.byte_size(), 4u);

  inference::TraceSettingRequest trace;
  // settings = 1 {key = 1 "l", value = 2 {value = 1 "v"}}; model_name = 2 "m"
  ASSERT_TRUE(
      trace.ParseFromString(bytes({0x0a, 8, 0x0a, 1, 'l', 0x12, 3, 0x0a, 1, 'v', 0x12, 1, 'm'})));
  EXPECT_EQ(trace.model_name(), "m");
  ASSERT_EQ(trace.settings().count("l"), 1u);
  EXPECT_EQ(trace.settings().at("l").value(0), "v");

  inference::LogSettingsRequest log;
  // settings = 1 {key = 1 "v", value = 2 {uint32_param = 2 (varint) 3}}
  ASSERT_TRUE(log.ParseFromString(bytes({0x0a, 7, 0x0a, 1, 'v', 0x12, 2, 0x10, 3})));
  EXPECT_EQ(log.settings().at("v").uint32_param(), 3u);

  inference::ModelStreamInferResponse stream;
  // error_message = 1 "e"; infer_response = 2 {model_name = 1 "m"}
  ASSERT_TRUE(stream.ParseFromString(bytes({0x0a, 1, 'e', 0x12, 3, 0x0a, 1, 'm'})));
  EXPECT_EQ(stream.error_message(), "e");
  EXPECT_EQ(stream.infer_response().model_name(), "m");
}

}  // namespace
}  // namespace mlpserve::testing

// GrpcServer's maximum connection age over real loopback gRPC: the server
// sends GOAWAY to a connection older than the age, the client's channel
// leaves READY, and its next call goes out on a new connection.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "proto/inference.grpc.pb.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

// ServerLive on `channel`; whether it answered live.
bool Live(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = inference::GRPCInferenceService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  inference::ServerLiveResponse response;
  return stub->ServerLive(&context, inference::ServerLiveRequest(), &response).ok() &&
         response.live();
}

class ConnectionAgeTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = MakeTempDir("connection_age"); }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // A server with the given maximum connection age (grace 1 s), and a
  // channel to it that has made one call (so it is READY).
  void StartAndConnect(absl::Duration max_age) {
    TestServer::Options options;
    options.max_connection_age = max_age;
    if (max_age != absl::InfiniteDuration()) options.max_connection_age_grace = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<TestServer>> server = TestServer::Start(root_, options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(server_->grpc_target(), grpc::InsecureChannelCredentials());
    ASSERT_TRUE(Live(channel_));
    ASSERT_EQ(channel_->GetState(/*try_to_connect=*/false), GRPC_CHANNEL_READY);
  }

  std::string root_;
  std::unique_ptr<TestServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ConnectionAgeTest, AnOldConnectionIsClosedAndTheNextCallReconnects) {
  StartAndConnect(absl::Seconds(1));
  // The GOAWAY comes after 0.9-1.1 s; the deadline only bounds a failure.
  EXPECT_TRUE(channel_->WaitForStateChange(
      GRPC_CHANNEL_READY, std::chrono::system_clock::now() + std::chrono::seconds(30)))
      << "the connection was still open 30 s after its maximum age of 1 s";
  EXPECT_NE(channel_->GetState(false), GRPC_CHANNEL_READY);
  EXPECT_TRUE(Live(channel_)) << "no call after the server closed the old connection";
}

TEST_F(ConnectionAgeTest, WithoutAMaximumAgeTheConnectionStaysOpen) {
  StartAndConnect(absl::InfiniteDuration());
  // Three times the age the other case uses.
  EXPECT_FALSE(channel_->WaitForStateChange(
      GRPC_CHANNEL_READY, std::chrono::system_clock::now() + std::chrono::seconds(3)));
  EXPECT_EQ(channel_->GetState(false), GRPC_CHANNEL_READY);
}

TEST(ConnectionAgeOptionsTest, AZeroOrNegativeAgeIsRefused) {
  for (absl::Duration age : {absl::ZeroDuration(), absl::Seconds(-1)}) {
    GrpcServer::Options options;
    options.address = "127.0.0.1:0";
    options.max_connection_age = age;
    absl::StatusOr<std::unique_ptr<GrpcServer>> server = GrpcServer::Start(options);
    ASSERT_FALSE(server.ok());
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(server.status().message().find("maximum connection age must be positive"),
              std::string::npos)
        << server.status();
  }
}

}  // namespace
}  // namespace mlpserve::testing

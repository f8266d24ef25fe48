#include "client/lib/inference_client.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_inference_server.h"

namespace mlpserve::client {
namespace {

using ::testing::ElementsAre;
using testing::FakeInferenceServer;
using ::testing::HasSubstr;

class InferenceClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InferenceClient::Options options;
    options.url = server_.address();
    options.timeout = std::chrono::seconds(5);
    absl::StatusOr<std::unique_ptr<InferenceClient>> client = InferenceClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  FakeInferenceServer server_;
  std::unique_ptr<InferenceClient> client_;
};

TEST_F(InferenceClientTest, LiveReadyHealth) {
  EXPECT_EQ(*client_->ServerLive(), true);
  EXPECT_EQ(*client_->ServerReady(), true);
  absl::StatusOr<std::string> health = client_->Health();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");
}

TEST_F(InferenceClientTest, MetadataAndSignature) {
  absl::StatusOr<inference::ModelMetadataResponse> md = client_->ModelMetadata("double");
  ASSERT_TRUE(md.ok()) << md.status();
  absl::StatusOr<InputSignature> sig = InputSignatureFromMetadata(*md);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->name, "x");
  EXPECT_EQ(sig->features, FakeInferenceServer::kFeatures);

  absl::StatusOr<inference::ModelMetadataResponse> missing = client_->ModelMetadata("nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("model 'nope'"));
}

TEST_F(InferenceClientTest, InferRawAndTyped) {
  Tensor input{"x", "FP32", {2, 4}, {1, 2, 3, 4, -1, -2, -3, -4.5}};
  for (bool typed : {false, true}) {
    absl::StatusOr<InferResult> r = client_->Infer({"double", "", "req-1", typed}, input);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->model_name, "double");
    EXPECT_EQ(r->model_version, "1");
    EXPECT_EQ(r->id, "req-1");
    ASSERT_EQ(r->outputs.size(), 1u);
    EXPECT_EQ(r->outputs[0].name, "y");
    EXPECT_THAT(r->outputs[0].shape, ElementsAre(2, 4));
    EXPECT_THAT(r->outputs[0].data, ElementsAre(2, 4, 6, 8, -2, -4, -6, -9));
  }
}

TEST_F(InferenceClientTest, InferErrorsCarryCodeAndModel) {
  server_.FailEvery(1, grpc::StatusCode::RESOURCE_EXHAUSTED);
  Tensor input = *RandomInput("x", 3, FakeInferenceServer::kFeatures, 1);
  absl::StatusOr<InferResult> r = client_->Infer({"double", "", "", false}, input);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("ModelInfer(model 'double'): RESOURCE_EXHAUSTED: injected failure"));
}

TEST(InferenceClientNoServerTest, UnreachableIsUnavailableWithinDeadline) {
  InferenceClient::Options options;
  options.url = "grpc://127.0.0.1:1";  // Scheme is dropped; nothing listens on port 1.
  options.timeout = std::chrono::milliseconds(2000);
  auto client = InferenceClient::Create(options);
  ASSERT_TRUE(client.ok());
  absl::StatusOr<bool> live = (*client)->ServerLive();
  EXPECT_FALSE(live.ok());
  InferenceClient::Options empty_url;
  empty_url.url = "";
  EXPECT_EQ(InferenceClient::Create(empty_url).status().code(), absl::StatusCode::kInvalidArgument);
  InferenceClient::Options missing_ca;
  missing_ca.tls.ca_file = "/no/such/ca.pem";
  absl::StatusOr<std::unique_ptr<InferenceClient>> tls = InferenceClient::Create(missing_ca);
  EXPECT_EQ(tls.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(tls.status().message()), ::testing::HasSubstr("/no/such/ca.pem"));
}

TEST(InferenceClientUrlTest, AcceptsHostPortAndGrpcTargetUris) {
  const std::pair<const char*, const char*> cases[] = {
      {"localhost:8001", "localhost:8001"},
      {"grpc://127.0.0.1:1", "127.0.0.1:1"},
      {"http://svc.ns.svc.cluster.local:65535", "svc.ns.svc.cluster.local:65535"},
      {"[::1]:8001", "[::1]:8001"},
      {"dns:///localhost:8001", "dns:///localhost:8001"},
      {"unix:///run/mlpserve.sock", "unix:///run/mlpserve.sock"},
      {"ipv4:127.0.0.1:8001,127.0.0.2:8001", "ipv4:127.0.0.1:8001,127.0.0.2:8001"},
      {"xds:///mlpserve", "xds:///mlpserve"},
      {"GRPC://Localhost:8001", "Localhost:8001"},
      {"HTTP://[::1]:8001", "[::1]:8001"},
      // gRPC matches URI schemes case-sensitively: passed as typed, these
      // failed to resolve.
      {"DNS:///localhost:8001", "dns:///localhost:8001"},
      {"Unix:///run/Mlpserve.sock", "unix:///run/Mlpserve.sock"},
      {"dns://8.8.8.8/svc:8001", "dns://8.8.8.8/svc:8001"},
      {"unix:relative.sock", "unix:relative.sock"},
  };
  for (const auto& [url, target] : cases) {
    absl::StatusOr<std::string> got = InferenceClient::TargetFromUrl(url);
    ASSERT_TRUE(got.ok()) << url << ": " << got.status();
    EXPECT_EQ(*got, target) << url;
  }
}

TEST(InferenceClientUrlTest, RefusesWhatGrpcWouldMisroute) {
  // gRPC itself would dial 443 for a missing port and 83537 % 65536 = 18001.
  for (const char* url :
       {"", "localhost", "localhost:", "localhost:0", "localhost:83537", "localhost:-1", ":8001",
        "http://localhost:8001/", "localhost:80a", "https://localhost:8001",
        "HTTPS://localhost:8001", "::1:8001", "::1", "2001:db8::1",
        // A URI scheme with no address after it.
        "dns:", "dns:///", "DNS://", "dns://8.8.8.8/", "unix:", "unix://", "ipv4:", "xds:///"}) {
    absl::StatusOr<std::string> got = InferenceClient::TargetFromUrl(url);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << "'" << url << "'";
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(std::string("'") + url + "'"));
    InferenceClient::Options options;
    options.url = url;
    EXPECT_EQ(InferenceClient::Create(options).status().code(), absl::StatusCode::kInvalidArgument)
        << "'" << url << "'";
  }
}

}  // namespace
}  // namespace mlpserve::client

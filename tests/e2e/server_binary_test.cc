// The real binaries, as a user runs them: flags, exit codes, logged ports,
// the CLI client, PyTorch parity through the server, and SIGTERM.
#include <signal.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "proto/inference.grpc.pb.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

using ::testing::HasSubstr;

const std::string& kServer = kServerBinary;
const std::string& kClient = kClientBinary;
const std::string& kModels = kBundledModels;
const std::string kPython = "/usr/bin/python3";

TEST(ServerBinaryTest, HelpDocumentsEveryFlag) {
  RunResult result = RunCommand({kServer, "--help"});
  EXPECT_EQ(result.exit_code, 0);
  for (const char* flag : {"--model-repository", "--grpc-address", "--metrics-address",
                           "--log-level", "--shutdown-grace-secs"}) {
    EXPECT_THAT(result.output, HasSubstr(flag));
  }
}

TEST(ServerBinaryTest, BadInvocationsExitNonZeroWithAMessage) {
  RunResult missing = RunCommand({kServer, "--model-repository", "/no/such/dir"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.output, HasSubstr("/no/such/dir"));

  // Usage errors: exit 2 (CLI11's own codes were 105-109).
  RunResult no_repo = RunCommand({kServer});
  EXPECT_EQ(no_repo.exit_code, 2);
  EXPECT_THAT(no_repo.output, HasSubstr("--model-repository"));

  RunResult unknown = RunCommand({kServer, "--model-repository", kModels, "--frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.output, HasSubstr("frobnicate"));

  RunResult address =
      RunCommand({kServer, "--model-repository", kModels, "--grpc-address", "nope"});
  EXPECT_EQ(address.exit_code, 2);
  EXPECT_THAT(address.output, HasSubstr("--grpc-address"));

  RunResult level = RunCommand({kServer, "--model-repository", kModels, "--log-level", "loud"});
  EXPECT_EQ(level.exit_code, 2);
  EXPECT_THAT(level.output, HasSubstr("--log-level"));

  RunResult threads =
      RunCommand({kServer, "--model-repository", kModels, "--shutdown-grace-secs", "-1"});
  EXPECT_EQ(threads.exit_code, 2);
  EXPECT_THAT(threads.output, HasSubstr("--shutdown-grace-secs"));
}

// gRPC turns SO_REUSEPORT on by default; the server must not: a second server
// on a port in use would start and take part of the first one's connections.
TEST(ServerBinaryTest, RefusesAGrpcPortAlreadyInUse) {
  ServerProcess first(kModels, {});
  ASSERT_TRUE(first.ready()) << first.log();
  const std::string port = first.url().substr(first.url().rfind(':') + 1);
  // `timeout` bounds the test if the second server does start and serve.
  RunResult second =
      RunCommand({"/usr/bin/timeout", "30", kServer, "--model-repository", kModels,
                  "--grpc-address", "127.0.0.1:" + port, "--metrics-address", "127.0.0.1:0"});
  EXPECT_NE(second.exit_code, 0);
  EXPECT_NE(second.exit_code, 124) << "the second server started on a port in use";
  EXPECT_THAT(second.output, HasSubstr("cannot listen for gRPC on '127.0.0.1:" + port + "'"));
}

TEST(ServerBinaryTest, ServesBundledModelsToTheCliAndStopsCleanlyOnSigterm) {
  ServerProcess server(kModels);
  ASSERT_TRUE(server.ready()) << server.log();

  RunResult health = RunCommand({kClient, "--url", server.url(), "health"});
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_THAT(health.output, HasSubstr("SERVING"));

  for (const std::string model : {"leaky_mlp", "prelu_mlp"}) {
    for (const std::string encoding : {"--raw", "--typed"}) {
      RunResult infer = RunCommand(
          {kClient, "--url", server.url(), "infer", model, "--random", "--batch", "4", encoding});
      ASSERT_EQ(infer.exit_code, 0) << infer.output;
      nlohmann::json json = nlohmann::json::parse(infer.output, nullptr, false);
      ASSERT_FALSE(json.is_discarded()) << infer.output;
      EXPECT_EQ(json["model_name"], model);
      EXPECT_EQ(json["outputs"][0]["shape"], nlohmann::json::array({4, 10}));
      EXPECT_EQ(json["outputs"][0]["data"].size(), 40u);
    }
  }
  if (RunCommand({kPython, "-c", "import grpc_tools"}).exit_code == 0) {
    RunResult python =
        RunCommand({kPython, std::string(MLPSERVE_SOURCE_DIR) + "/client/python/simple_client.py",
                    "--url", server.url(), "--model", "prelu_mlp"},
                   absl::Seconds(120));
    EXPECT_EQ(python.exit_code, 0) << python.output;
  } else {
    ADD_FAILURE() << "python3-grpc-tools missing: make test installs it";
  }
  RunResult metadata = RunCommand({kClient, "--url", server.url(), "metadata", "leaky_mlp"});
  EXPECT_EQ(metadata.exit_code, 0) << metadata.output;
  EXPECT_THAT(metadata.output, HasSubstr("leaky_mlp"));

  EXPECT_EQ(server.Stop(), std::optional<int>(0)) << server.log();
  EXPECT_THAT(server.log(), HasSubstr("shut down cleanly"));
}

// SIGHUP's default action killed the server on the spot (exit 129, calls in
// flight dropped); it is logged and ignored now.
TEST(ServerBinaryTest, SighupIsIgnored) {
  ServerProcess server(kModels);
  ASSERT_TRUE(server.ready()) << server.log();
  server.Signal(SIGHUP);
  RunResult health = RunCommand({kClient, "--url", server.url(), "health"});
  EXPECT_EQ(health.exit_code, 0) << health.output << server.log();
  EXPECT_EQ(server.Stop(), std::optional<int>(0)) << server.log();
  EXPECT_THAT(server.log(), HasSubstr("received Hangup: ignored"));
  EXPECT_THAT(server.log(), HasSubstr("shut down cleanly"));
}

std::vector<float> ReadFloats(const std::string& path) {
  const std::string bytes = ReadFile(path);
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

TEST(ServerBinaryTest, MatchesPyTorchOnAnExportedLeakyAndPReluMlp) {
  if (RunCommand({kPython, "-c", "import torch, onnx"}).exit_code != 0) {
    GTEST_SKIP() << "/usr/bin/python3 cannot import torch and onnx (make test installs them)";
  }
  const std::string dir = MakeTempDir("torch_parity");
  RunResult exported =
      RunCommand({kPython, std::string(MLPSERVE_SOURCE_DIR) + "/tests/tools/export_torch_mlp.py",
                  dir, "--rows", "16"},
                 absl::Seconds(120));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const nlohmann::json meta = nlohmann::json::parse(ReadFile(dir + "/meta.json"));
  const int64_t rows = meta["rows"];
  const int64_t features = meta["in_features"];
  const std::vector<float> input = ReadFloats(dir + "/input.bin");
  const std::vector<float> expected = ReadFloats(dir + "/expected.bin");

  ServerProcess server(dir);
  ASSERT_TRUE(server.ready()) << server.log();
  auto stub = inference::GRPCInferenceService::NewStub(
      grpc::CreateChannel(server.url(), grpc::InsecureChannelCredentials()));
  inference::ModelInferRequest request;
  request.set_model_name(meta["model"].get<std::string>());
  auto* tensor = request.add_inputs();
  tensor->set_name(meta.value("input_name", "input"));
  tensor->set_datatype("FP32");
  tensor->add_shape(rows);
  tensor->add_shape(features);
  request.add_raw_input_contents(
      std::string(reinterpret_cast<const char*>(input.data()), input.size() * sizeof(float)));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  inference::ModelInferResponse response;
  grpc::Status status = stub->ModelInfer(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << server.log();
  const std::string& raw = response.raw_output_contents(0);
  ASSERT_EQ(raw.size(), expected.size() * sizeof(float));
  std::vector<float> got(expected.size());
  std::memcpy(got.data(), raw.data(), raw.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], expected[i], 1e-5 * std::max(1.f, std::fabs(expected[i]))) << i;
  }
  EXPECT_EQ(server.Stop(), std::optional<int>(0));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mlpserve::testing

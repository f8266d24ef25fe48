// The server binary under hostile conditions: oversized messages, a flood on
// a slow model with a tiny queue, and SIGTERM with requests in flight.
#include <signal.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "proto/inference.grpc.pb.h"
#include "server/model/onnx_import.h"
#include "tests/model/onnx_test_graph.h"
#include "tests/support/reference_mlp.h"
#include "tests/support/server_process.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string& kClient = kClientBinary;

// Writes <repo>/<name>/1/model.onnx: Gemm layers of `dims` with LeakyReLU
// between them, random weights; and config.pbtxt with `config`.
void WriteModel(const std::string& repo, const std::string& name, const std::vector<int64_t>& dims,
                const std::string& config) {
  fs::create_directories(fs::path(repo) / name / "1");
  std::ofstream(fs::path(repo) / name / "1" / "model.onnx", std::ios::binary)
      << RandomMlpOnnx(dims, static_cast<uint32_t>(dims.size() * 7 + dims.back()));
  std::ofstream(fs::path(repo) / name / "config.pbtxt") << config;
}

inference::ModelInferRequest Request(const std::string& model, const std::vector<float>& values,
                                     int64_t rows) {
  inference::ModelInferRequest request;
  request.set_model_name(model);
  auto* input = request.add_inputs();
  input->set_name("input");
  input->set_datatype("FP32");
  input->add_shape(rows);
  input->add_shape(static_cast<int64_t>(values.size()) / rows);
  request.add_raw_input_contents(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  return request;
}

std::vector<float> Output(const inference::ModelInferResponse& response) {
  std::vector<float> out(response.raw_output_contents(0).size() / sizeof(float));
  std::memcpy(out.data(), response.raw_output_contents(0).data(), out.size() * sizeof(float));
  return out;
}

bool Near(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::fabs(got[i] - want[i]) > 1e-5 * std::max(1.f, std::fabs(want[i]))) return false;
  }
  return true;
}

class HardeningTest : public ::testing::Test {
 protected:
  void SetUp() override { repo_ = MakeTempDir("hardening_repo"); }
  void TearDown() override { fs::remove_all(repo_); }
  std::string repo_;
};

TEST_F(HardeningTest, OversizedRequestIsResourceExhaustedAndServingGoesOn) {
  WriteModel(repo_, "m", {64, 32, 8}, "");
  ServerProcess server(repo_, {"--max-request-bytes", "4096"});
  ASSERT_TRUE(server.ready()) << server.log();
  auto stub = server.Stub();
  std::vector<float> big(64 * 64, 0.5f);  // 16 KiB of floats
  grpc::ClientContext big_context;
  inference::ModelInferResponse response;
  grpc::Status status = stub->ModelInfer(&big_context, Request("m", big, 64), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();

  grpc::ClientContext small_context;
  std::vector<float> small(2 * 64, 0.5f);
  EXPECT_TRUE(stub->ModelInfer(&small_context, Request("m", small, 2), &response).ok());
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(absl::Seconds(30)), std::optional<int>(0));
}

TEST_F(HardeningTest, FloodOnASlowModelShedsWithResourceExhaustedOnly) {
  // One row per batch, four queued requests at most: a flood must be shed.
  WriteModel(repo_, "slow", {256, 1024, 1024, 1024, 10},
             "max_batch_size: 1\n"
             "dynamic_batching { max_queue_delay_microseconds: 0 max_queue_size: 4 }\n");
  ServerProcess server(repo_);
  ASSERT_TRUE(server.ready()) << server.log();
  const std::string report = MakeTempDir("flood") + "/perf.json";
  RunResult flood = RunCommand({kClient, "--url", server.url(), "perf", "slow", "--concurrency",
                                "64", "--requests", "1500", "--json", report},
                               absl::Seconds(120));
  ASSERT_EQ(flood.exit_code, 0) << flood.output;
  const nlohmann::json levels = nlohmann::json::parse(ReadFile(report))["levels"];
  ASSERT_EQ(levels.size(), 1u);
  const nlohmann::json& level = levels[0];
  EXPECT_GT(level["successes"].get<int64_t>(), 0);
  int64_t shed = 0;
  for (const auto& [code, count] : level["errors_by_code"].items()) {
    EXPECT_EQ(code, "RESOURCE_EXHAUSTED") << count;
    shed += count.get<int64_t>();
  }
  EXPECT_GT(shed, 0) << "64 concurrent clients never overflowed a queue of 4";
  EXPECT_EQ(level["successes"].get<int64_t>() + shed, 1500);

  RunResult health = RunCommand({kClient, "--url", server.url(), "health"});
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_THAT(health.output, HasSubstr("SERVING"));
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(absl::Seconds(30)), std::optional<int>(0)) << server.log();
}

TEST_F(HardeningTest, SigtermCompletesEveryAcceptedRequest) {
  // The queue delay (10 min) is far beyond the grace period (20 s): the
  // requests can only complete because SIGTERM starts queued batches at once.
  constexpr int kClients = 16;
  WriteModel(repo_, "m", {32, 64, 64, 4},
             "max_batch_size: 64\n"
             "dynamic_batching { max_queue_delay_microseconds: 600000000 }\n");
  absl::StatusOr<Mlp> mlp = ImportOnnxFile(repo_ + "/m/1/model.onnx");
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  ServerProcess server(repo_, {"--shutdown-grace-secs", "20"});
  ASSERT_TRUE(server.ready()) << server.log();

  std::vector<grpc::Status> statuses(kClients);
  std::vector<bool> correct(kClients, false);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::vector<float> input(2 * 32);
      for (size_t i = 0; i < input.size(); ++i) input[i] = std::sin(float(c * 100 + i));
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      inference::ModelInferResponse response;
      statuses[c] = server.Stub()->ModelInfer(&context, Request("m", input, 2), &response);
      if (statuses[c].ok()) correct[c] = Near(Output(response), ReferenceForward(*mlp, input, 2));
    });
  }
  // SIGTERM once every request is queued on the server (32 rows: the batch
  // is not full, so nothing starts before the signal).
  bool queued = false;
  const absl::Time give_up = absl::Now() + absl::Seconds(45);
  while (!queued && absl::Now() < give_up) {
    RunResult scrape = RunCommand({"/usr/bin/curl", "-sf", server.metrics_url()});
    queued = scrape.output.find("mlpserve_queue_depth{model=\"m\",version=\"1\"} 16\n") !=
             std::string::npos;
    if (!queued) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(queued) << "the 16 requests never showed as queued\n" << server.log();
  server.Signal(SIGTERM);
  for (std::thread& t : clients) t.join();
  if (!queued) return;
  for (int c = 0; c < kClients; ++c) {
    EXPECT_TRUE(statuses[c].ok()) << "client " << c << ": " << statuses[c].error_message();
    EXPECT_TRUE(correct[c]) << "client " << c;
  }
  // Once draining has started, new calls are refused.
  grpc::ClientContext late;
  late.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  inference::ModelInferResponse response;
  std::vector<float> input(32, 0.f);
  EXPECT_EQ(server.Stub()->ModelInfer(&late, Request("m", input, 1), &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(server.Wait(absl::Seconds(30)), std::optional<int>(0)) << server.log();
  EXPECT_THAT(server.log(), HasSubstr("shut down cleanly"));
}

}  // namespace
}  // namespace mlpserve::testing

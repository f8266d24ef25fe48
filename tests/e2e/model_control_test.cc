// Model control through the real binaries: explicit mode with the CLI's
// `models` commands (behind a token), poll mode picking up a new model, and
// --strict-readiness following the loads and unloads.
#include <filesystem>
#include <fstream>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "proto/health.grpc.pb.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// {name -> state} from `mlpserve-client models list`.
std::map<std::string, std::string> States(const std::vector<std::string>& client_flags) {
  std::vector<std::string> argv = {kClientBinary};
  argv.insert(argv.end(), client_flags.begin(), client_flags.end());
  argv.insert(argv.end(), {"models", "list"});
  RunResult list = RunCommand(argv);
  EXPECT_EQ(list.exit_code, 0) << list.output;
  std::map<std::string, std::string> states;
  const nlohmann::json json = nlohmann::json::parse(list.output, nullptr, false);
  if (json.is_discarded()) return states;
  for (const auto& m : json["models"]) states[m["name"]] = m["state"];
  return states;
}

TEST(ModelControlTest, ExplicitModeLoadsAndUnloadsWithTheToken) {
  const std::string dir = MakeTempDir("control");
  std::ofstream(dir + "/token") << "control-token\n";
  ServerProcess server(kBundledModels, {"--model-control-mode", "explicit", "--load-model",
                                        "leaky_mlp", "--auth-token-file", dir + "/token"});
  ASSERT_TRUE(server.ready()) << server.log();
  const std::vector<std::string> with_token = {"--url", server.url(), "--token-file",
                                               dir + "/token"};
  auto states = States(with_token);
  EXPECT_EQ(states["leaky_mlp"], "READY");
  EXPECT_EQ(states["prelu_mlp"], "UNAVAILABLE");

  RunResult refused =
      RunCommand({kClientBinary, "--url", server.url(), "models", "load", "prelu_mlp"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.output, HasSubstr("UNAUTHENTICATED"));

  std::vector<std::string> load = {kClientBinary};
  load.insert(load.end(), with_token.begin(), with_token.end());
  load.insert(load.end(), {"models", "load", "prelu_mlp"});
  RunResult loaded = RunCommand(load);
  EXPECT_EQ(loaded.exit_code, 0) << loaded.output;
  std::vector<std::string> unload = {kClientBinary};
  unload.insert(unload.end(), with_token.begin(), with_token.end());
  unload.insert(unload.end(), {"models", "unload", "leaky_mlp"});
  RunResult unloaded = RunCommand(unload);
  EXPECT_EQ(unloaded.exit_code, 0) << unloaded.output;
  std::vector<std::string> missing = {kClientBinary};
  missing.insert(missing.end(), with_token.begin(), with_token.end());
  missing.insert(missing.end(), {"models", "load", "no_such_model"});
  RunResult not_found = RunCommand(missing);
  EXPECT_EQ(not_found.exit_code, 1);
  EXPECT_THAT(not_found.output, HasSubstr("NOT_FOUND"));

  // Two inferences of 4 rows on the freshly loaded model, then its statistics.
  for (int i = 0; i < 2; ++i) {
    RunResult infer = RunCommand(
        {kClientBinary, "--url", server.url(), "infer", "prelu_mlp", "--random", "--batch", "4"});
    EXPECT_EQ(infer.exit_code, 0) << infer.output;
  }
  std::vector<std::string> stats = {kClientBinary};
  stats.insert(stats.end(), with_token.begin(), with_token.end());
  stats.insert(stats.end(), {"models", "stats", "prelu_mlp"});
  // The server counts an execution right after answering it (the batch
  // observer runs after the answers), so ask again until both are counted.
  nlohmann::json model_stats;
  for (int attempt = 0; attempt < 100; ++attempt) {
    RunResult stats_run = RunCommand(stats);
    ASSERT_EQ(stats_run.exit_code, 0) << stats_run.output;
    model_stats = nlohmann::json::parse(stats_run.output)["model_stats"];
    ASSERT_EQ(model_stats.size(), 1u) << stats_run.output;
    if (model_stats[0]["execution_count"] == 2) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(model_stats[0]["version"], "1");
  EXPECT_EQ(model_stats[0]["inference_count"], 8);
  EXPECT_EQ(model_stats[0]["execution_count"], 2);
  EXPECT_EQ(model_stats[0]["success"]["count"], 2);
  EXPECT_EQ(model_stats[0]["fail"]["count"], 0);
  EXPECT_GT(model_stats[0]["last_inference_ms"].get<uint64_t>(), 0u);

  states = States(with_token);
  EXPECT_EQ(states["prelu_mlp"], "READY");
  EXPECT_EQ(states["leaky_mlp"], "UNAVAILABLE");
  EXPECT_EQ(server.Stop(), std::optional<int>(0)) << server.log();
  fs::remove_all(dir);
}

TEST(ModelControlTest, PollModePicksUpAddedAndRemovedModels) {
  const std::string repo = MakeTempDir("poll_repo");
  CopyBundledModel("leaky_mlp", repo);
  ServerProcess server(repo, {"--model-control-mode", "poll", "--repository-poll-secs", "1"});
  ASSERT_TRUE(server.ready()) << server.log();
  const std::vector<std::string> flags = {"--url", server.url()};
  EXPECT_EQ(States(flags).count("prelu_mlp"), 0u);

  CopyBundledModel("prelu_mlp", repo);
  fs::remove_all(fs::path(repo) / "leaky_mlp");
  std::map<std::string, std::string> states;
  for (int i = 0; i < 100; ++i) {  // bounded: 20 s
    states = States(flags);
    if (states["prelu_mlp"] == "READY" && states.count("leaky_mlp") == 0) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(states["prelu_mlp"], "READY") << server.log();
  EXPECT_EQ(states.count("leaky_mlp"), 0u) << server.log();
  EXPECT_EQ(server.Stop(), std::optional<int>(0)) << server.log();
  fs::remove_all(repo);
}

// The server's readiness as ServerReady and grpc.health.v1 "" answer it,
// and the health service's "liveness".
struct Health {
  bool server_ready = false;
  std::string ready;     // HealthCheckResponse status name, or the error code
  std::string liveness;  // the same
};

Health AskHealth(const ServerProcess& server) {
  Health health;
  grpc::ClientContext context;
  inference::ServerReadyResponse response;
  EXPECT_TRUE(server.Stub()->ServerReady(&context, {}, &response).ok());
  health.server_ready = response.ready();
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(server.url(), grpc::InsecureChannelCredentials()));
  for (auto [name, out] : {std::pair{"", &health.ready}, std::pair{"liveness", &health.liveness}}) {
    grpc::ClientContext check_context;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(name);
    grpc::health::v1::HealthCheckResponse answer;
    const grpc::Status status = stub->Check(&check_context, request, &answer);
    *out = status.ok() ? grpc::health::v1::HealthCheckResponse::ServingStatus_Name(answer.status())
                       : "error " + std::to_string(status.error_code());
  }
  return health;
}

// --strict-readiness: ready only while every model asked for has a ready
// version (a model that fails to load keeps the server out of a load
// balancer's rotation until it is mended or unloaded); "liveness" stays
// SERVING throughout, so that a liveness probe does not restart a server
// that a restart would not mend.
TEST(ModelControlTest, StrictReadinessFollowsTheModelsAndLivenessDoesNot) {
  const std::string repo = MakeTempDir("strict");
  CopyBundledModel("leaky_mlp", repo);
  fs::create_directories(fs::path(repo) / "broken" / "1");
  std::ofstream(fs::path(repo) / "broken" / "1" / "model.onnx") << "not an onnx file";
  ServerProcess server(repo, {"--model-control-mode", "explicit", "--load-model", "leaky_mlp",
                              "--load-model", "broken", "--strict-readiness"});
  ASSERT_TRUE(server.ready()) << server.log();
  EXPECT_THAT(server.log(), HasSubstr("not ready: serving model repository"));
  Health health = AskHealth(server);
  EXPECT_FALSE(health.server_ready);
  EXPECT_EQ(health.ready, "NOT_SERVING");
  EXPECT_EQ(health.liveness, "SERVING");
  // `mlpserve-client health` checks readiness ("") unless --service names
  // another: a liveness probe (a HEALTHCHECK) asks for "liveness".
  RunResult cli_ready = RunCommand({kClientBinary, "--url", server.url(), "health"});
  EXPECT_EQ(cli_ready.exit_code, 1) << cli_ready.output;
  EXPECT_THAT(cli_ready.output, HasSubstr("\"health\": \"NOT_SERVING\""));
  RunResult cli_live =
      RunCommand({kClientBinary, "--url", server.url(), "health", "--service", "liveness"});
  EXPECT_EQ(cli_live.exit_code, 0) << cli_live.output;
  EXPECT_THAT(cli_live.output, HasSubstr("\"health\": \"SERVING\""));
  EXPECT_THAT(cli_live.output, HasSubstr("\"service\": \"liveness\""));
  RunResult cli_unknown =
      RunCommand({kClientBinary, "--url", server.url(), "health", "--service", "no-such"});
  EXPECT_EQ(cli_unknown.exit_code, 1) << cli_unknown.output;
  // The model that loaded serves all the same.
  RunResult infer =
      RunCommand({kClientBinary, "--url", server.url(), "infer", "leaky_mlp", "--random"});
  EXPECT_EQ(infer.exit_code, 0) << infer.output;

  // Mended and loaded: ready (the load's answer comes after readiness
  // changed).
  fs::copy_file(fs::path(repo) / "leaky_mlp" / "1" / "model.onnx",
                fs::path(repo) / "broken" / "1" / "model.onnx",
                fs::copy_options::overwrite_existing);
  RunResult load = RunCommand({kClientBinary, "--url", server.url(), "models", "load", "broken"});
  EXPECT_EQ(load.exit_code, 0) << load.output;
  health = AskHealth(server);
  EXPECT_TRUE(health.server_ready);
  EXPECT_EQ(health.ready, "SERVING");
  EXPECT_EQ(health.liveness, "SERVING");

  // Broken again: a failed reload keeps the version that serves, so still
  // ready; unloading a model does not make the server unready either.
  std::ofstream(fs::path(repo) / "broken" / "1" / "model.onnx", std::ios::trunc) << "garbage";
  load = RunCommand({kClientBinary, "--url", server.url(), "models", "load", "broken"});
  EXPECT_EQ(load.exit_code, 1) << load.output;
  EXPECT_TRUE(AskHealth(server).server_ready);
  RunResult unload =
      RunCommand({kClientBinary, "--url", server.url(), "models", "unload", "broken"});
  EXPECT_EQ(unload.exit_code, 0) << unload.output;
  health = AskHealth(server);
  EXPECT_TRUE(health.server_ready);
  EXPECT_EQ(health.ready, "SERVING");

  EXPECT_EQ(server.Stop(), std::optional<int>(0)) << server.log();
  fs::remove_all(repo);
}

}  // namespace
}  // namespace mlpserve::testing

// Model control through the real binaries: explicit mode with the CLI's
// `models` commands (behind a token), and poll mode picking up a new model.
#include <filesystem>
#include <fstream>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
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

}  // namespace
}  // namespace mlpserve::testing

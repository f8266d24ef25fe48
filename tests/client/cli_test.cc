// Runs the mlpserve-client binary and the Python example client against the
// fake server and checks their output and exit codes.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/client/fake_inference_server.h"
#include "tests/support/temp_dir.h"

namespace mlpserve::client {
namespace {

using testing::FakeInferenceServer;
using ::testing::HasSubstr;

struct CommandRun {
  int exit_code = -1;
  std::string out;  // stdout only; stderr goes to the test log.
};

CommandRun RunCommand(const std::string& command) {
  CommandRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) run.out.append(buf, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class CliTest : public ::testing::Test {
 protected:
  CommandRun Client(const std::string& args) {
    return RunCommand(std::string(MLPSERVE_CLIENT_BIN) + " --url " + server_.address() +
                      " --timeout 5 " + args);
  }
  FakeInferenceServer server_;
};

TEST_F(CliTest, HealthServingExitsZero) {
  CommandRun run = Client("health");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["live"], true);
  EXPECT_EQ(j["ready"], true);
  EXPECT_EQ(j["health"], "SERVING");
}

TEST(CliNoServerTest, HealthUnreachableExitsNonZero) {
  CommandRun run = RunCommand(std::string(MLPSERVE_CLIENT_BIN) +
                              " --url 127.0.0.1:1 --timeout 1 health 2>/dev/null");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(run.out)["health"], "UNREACHABLE");
}

TEST(CliNoServerTest, BadUrlIsAUsageErrorBeforeAnyCall) {
  for (const char* url : {"localhost", "localhost:83537", "https://localhost:8001"}) {
    for (const char* command : {"health", "perf m --requests 1"}) {
      CommandRun run = RunCommand(std::string(MLPSERVE_CLIENT_BIN) + " --url '" + url + "' " +
                                  command + " 2>&1");
      EXPECT_EQ(run.exit_code, 2) << url << " " << command << ": " << run.out;
      EXPECT_THAT(run.out, HasSubstr(std::string("'") + url + "'"));
    }
  }
}

TEST(CliNoServerTest, BadInputFileIsAUsageErrorBeforeAnyCall) {
  const std::string dir = mlpserve::testing::MakeTempDir("cli_input");
  ASSERT_FALSE(dir.empty());
  const std::string path = dir + "/big.json";
  std::ofstream(path) << R"({"inputs": [[1e39, 2]]})";
  CommandRun run = RunCommand(std::string(MLPSERVE_CLIENT_BIN) +
                              " --url 127.0.0.1:1 --timeout 1 infer m --input " + path + " 2>&1");
  EXPECT_EQ(run.exit_code, 2) << run.out;
  EXPECT_THAT(run.out, HasSubstr("row 0, column 0 (1e+39) is beyond FP32's range"));
}

TEST(CliNoServerTest, PerfLiveOnAnUnreachableServerStopsAtOnce) {
  CommandRun run = RunCommand(std::string(MLPSERVE_CLIENT_BIN) +
                              " --url 127.0.0.1:1 --timeout 1 perf --rpc live --duration 60s 2>&1");
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("ServerLive: UNAVAILABLE"));
  EXPECT_THAT(run.out, ::testing::Not(HasSubstr("concurrency")));  // no table of failures
}

TEST(CliNoServerTest, NonPositiveFlagsAreNamedPlainly) {
  for (const char* timeout : {"0", "0.0001", "inf", "1e400", "nan"}) {
    CommandRun run =
        RunCommand(std::string(MLPSERVE_CLIENT_BIN) + " --timeout " + timeout + " health 2>&1");
    EXPECT_EQ(run.exit_code, 2) << timeout << ": " << run.out;
    EXPECT_THAT(run.out, HasSubstr(std::string("--timeout: must be seconds from 0.001 to "
                                               "604800, got '") +
                                   timeout + "'"));
  }
  for (const char* batch : {"0", "-2", "inf"}) {
    CommandRun run =
        RunCommand(std::string(MLPSERVE_CLIENT_BIN) + " perf m --batch " + batch + " 2>&1");
    EXPECT_EQ(run.exit_code, 2) << batch << ": " << run.out;
    EXPECT_THAT(run.out,
                HasSubstr(std::string("--batch: must be a positive number, got '") + batch + "'"));
  }
  // Bad durations are usage errors before any call, even to a server that
  // is not there.
  for (const char* flags : {"perf m --duration 10x", "perf --rpc live --warmup 1y"}) {
    CommandRun run =
        RunCommand(std::string(MLPSERVE_CLIENT_BIN) + " --url 127.0.0.1:1 " + flags + " 2>&1");
    EXPECT_EQ(run.exit_code, 2) << flags << ": " << run.out;
  }
}

TEST_F(CliTest, MetadataPrintsJson) {
  CommandRun run = Client("metadata double");
  ASSERT_EQ(run.exit_code, 0);
  nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["inputs"][0]["name"], "x");
  EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json({-1, 4}));
  EXPECT_EQ(Client("metadata nope 2>/dev/null").exit_code, 1);
}

TEST_F(CliTest, InferFromFileRawAndTyped) {
  const std::string dir = mlpserve::testing::MakeTempDir("cli_infer");
  ASSERT_FALSE(dir.empty());
  const std::string path = dir + "/input.json";
  std::ofstream(path) << R"({"inputs": [[1, 2, 3, 4], [0.5, 0, -1, 8]]})";
  for (const char* mode : {"--raw", "--typed"}) {
    CommandRun run = Client("infer double --input " + path + " " + mode + " --id abc");
    ASSERT_EQ(run.exit_code, 0) << mode;
    nlohmann::json j = nlohmann::json::parse(run.out);
    EXPECT_EQ(j["id"], "abc");
    EXPECT_EQ(j["outputs"][0]["shape"], nlohmann::json({2, 4}));
    EXPECT_EQ(j["outputs"][0]["data"], nlohmann::json({2, 4, 6, 8, 1, 0, -2, 16}));
  }
  std::ofstream(path) << R"({"inputs": [[1, 2, 3]]})";
  EXPECT_EQ(Client("infer double --input " + path + " 2>/dev/null").exit_code, 2);
}

TEST_F(CliTest, InferRandomBatch) {
  CommandRun run = Client("infer double --random --batch 3 --seed 5");
  ASSERT_EQ(run.exit_code, 0);
  nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["outputs"][0]["shape"], nlohmann::json({3, 4}));
  for (double v : j["outputs"][0]["data"]) {
    EXPECT_GE(v, -2.0);
    EXPECT_LE(v, 2.0);
  }
}

TEST_F(CliTest, PerfWritesTableAndJson) {
  const std::string dir = mlpserve::testing::MakeTempDir("cli_perf");
  ASSERT_FALSE(dir.empty());
  const std::string json_path = dir + "/perf.json";
  CommandRun run =
      Client("perf double --concurrency 1,4 --requests 40 --warmup 0 --batch 2 --json " +
             json_path + " 2>/dev/null");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("p99.9 ms"));
  std::ifstream in(json_path);
  nlohmann::json j = nlohmann::json::parse(in);
  ASSERT_EQ(j["levels"].size(), 2u);
  EXPECT_EQ(j["levels"][1]["concurrency"], 4);
  EXPECT_EQ(j["levels"][1]["successes"], 40);
  EXPECT_EQ(j["batch"], 2);

  CommandRun live = Client("perf --rpc live --concurrency 2 --requests 20 --warmup 0 2>/dev/null");
  EXPECT_EQ(live.exit_code, 0);
  EXPECT_THAT(live.out, HasSubstr("live"));
}

TEST_F(CliTest, PythonSimpleClient) {
  if (std::system("/usr/bin/python3 -c 'import grpc, grpc_tools.protoc' 2>/dev/null") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 lacks grpcio or grpc_tools "
                    "(apt-get install python3-grpcio python3-grpc-tools)";
  }
  CommandRun run =
      RunCommand(std::string("/usr/bin/python3 ") + MLPSERVE_SOURCE_DIR +
                 "/client/python/simple_client.py --url " + server_.address() + " --model double");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("live: True"));
  EXPECT_THAT(run.out, HasSubstr("y FP32 [2, 4]"));
  EXPECT_THAT(run.out, HasSubstr("[2.0, 4.0, 6.0, 8.0]"));
}

}  // namespace
}  // namespace mlpserve::client

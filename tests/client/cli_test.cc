// Runs the mlpserve-client binary and the Python example client against the
// fake server and checks their output and exit codes.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>

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
  for (const char* url :
       {"localhost", "localhost:83537", "https://localhost:8001", "dns:", "unix:", "dns:///"}) {
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

// Every perf flag is checked before any call: against a server that is not
// there these are usage errors (exit 2) naming the flag, not UNAVAILABLE
// (exit 1). Before, --duration 0 and the out-of-range values reached the
// server first, and --duration 3000000000000s overflowed into a level that
// sent nothing, --request-rate 1e300 into sent = not_sent = 0.
TEST(CliNoServerTest, PerfFlagsAreCheckedBeforeAnyCall) {
  struct Case {
    const char* flags;
    const char* message;
  };
  for (const Case& c : {
           Case{"perf m --duration 0", "--duration must be positive"},
           Case{"perf m --duration 3000000000000s", "--duration: '3000000000000s' is out of range"},
           Case{"perf m --duration 400d", "--duration: '400d' is not a duration"},
           Case{"perf m --duration 9000h", "--duration is longer than a year"},
           Case{"perf m --warmup 3000000000000s", "--warmup: '3000000000000s' is out of range"},
           Case{"perf m --warmup 9000h", "--warmup is longer than a year"},
           Case{"perf m --request-rate 1e300 --duration 1s", "--request-rate must be"},
           Case{"perf --rpc live --request-rate 1e300 --requests 5", "--request-rate must be"},
       }) {
    CommandRun run =
        RunCommand(std::string(MLPSERVE_CLIENT_BIN) + " --url 127.0.0.1:1 " + c.flags + " 2>&1");
    EXPECT_EQ(run.exit_code, 2) << c.flags << ": " << run.out;
    EXPECT_THAT(run.out, HasSubstr(c.message)) << c.flags;
    EXPECT_THAT(run.out, ::testing::Not(HasSubstr("UNAVAILABLE"))) << c.flags;
  }
}

// A window below a millisecond is kept exactly (1.5ms used to become 1 ms,
// and 500us was refused as not positive).
TEST_F(CliTest, PerfKeepsSubMillisecondDurations) {
  const std::string dir = mlpserve::testing::MakeTempDir("cli_perf_us");
  ASSERT_FALSE(dir.empty());
  for (const auto& [flag, seconds] : {std::pair<const char*, double>{"1.5ms", 0.0015},
                                      std::pair<const char*, double>{"500us", 0.0005}}) {
    const std::string json_path = dir + "/perf.json";
    CommandRun run = Client(std::string("perf double --concurrency 1 --warmup 0 --duration ") +
                            flag + " --json " + json_path + " 2>&1");
    // Exit 0 or 1 (so short a window may see no completion); never a usage error.
    EXPECT_NE(run.exit_code, 2) << flag << ": " << run.out;
    std::ifstream in(json_path);
    ASSERT_TRUE(in) << flag << ": " << run.out;
    nlohmann::json j = nlohmann::json::parse(in);
    EXPECT_DOUBLE_EQ(j["levels"][0]["elapsed_s"].get<double>(), seconds) << flag;
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
  // The fake server has no ModelStatistics: perf says so and goes on.
  EXPECT_TRUE(j["levels"][1]["server"].is_null());

  CommandRun live = Client("perf --rpc live --concurrency 2 --requests 20 --warmup 0 2>/dev/null");
  EXPECT_EQ(live.exit_code, 0);
  EXPECT_THAT(live.out, HasSubstr("live"));
}

// A level whose window saw no successful request measured nothing: exit 1
// with a message, "-" for its latencies in the table and null in --json
// (it exited 0 and printed 0.000 ms when its one request, held by the
// server past the window, succeeded in the drain).
TEST_F(CliTest, PerfFailsWhenTheWindowHasNoSuccess) {
  const std::string dir = mlpserve::testing::MakeTempDir("cli_perf_empty");
  ASSERT_FALSE(dir.empty());
  const std::string json_path = dir + "/perf.json";
  server_.HoldCall(1, std::chrono::milliseconds(600));
  CommandRun run = Client("perf double --concurrency 1 --duration 200ms --warmup 0 --json " +
                          json_path + " 2>&1");
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("no request succeeded inside the measured window at "
                                 "concurrency 1"));
  EXPECT_THAT(run.out, HasSubstr("        -        -        -         -        -         0"));
  EXPECT_THAT(run.out, ::testing::Not(HasSubstr("0.000")));
  std::ifstream in(json_path);
  nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["levels"][0]["successes"], 0);
  EXPECT_EQ(j["levels"][0]["drain"]["successes"], 1);
  for (const char* key : {"mean", "p50", "p90", "p99", "p99.9", "min", "max"}) {
    EXPECT_TRUE(j["levels"][0]["latency_ms"][key].is_null()) << key;
  }
}

// A server's error message that is not UTF-8 is printed with U+FFFD in
// `health`'s JSON; nlohmann's dump() threw type_error 316 and the CLI died
// in std::terminate.
TEST_F(CliTest, InvalidUtf8FromTheServerIsReplacedNotFatal) {
  server_.FailServerLive("bad \xff byte");
  CommandRun run = Client("health");
  EXPECT_EQ(run.exit_code, 0) << run.out;  // grpc.health.v1 still says SERVING
  nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_THAT(j["error"].get<std::string>(), HasSubstr("bad \xEF\xBF\xBD byte"));
  EXPECT_TRUE(j["live"].is_null());
}

// A server that goes away mid-run aborts perf (it spun at 100% CPU on
// instantly failing UNAVAILABLE calls for the rest of every level): exit
// 1, the levels so far printed and written to --json, later ones not run.
TEST(CliServerGoneTest, PerfAbortsWhenTheServerGoesAwayAndKeepsTheFigures) {
  const std::string dir = mlpserve::testing::MakeTempDir("cli_perf_gone");
  ASSERT_FALSE(dir.empty());
  const std::string json_path = dir + "/perf.json";
  auto server = std::make_unique<FakeInferenceServer>();
  const std::string command = std::string(MLPSERVE_CLIENT_BIN) + " --url " + server->address() +
                              " --timeout 5 perf double --concurrency 2,4 --duration 20s " +
                              "--warmup 0 --json " + json_path + " 2>&1";
  CommandRun run;
  std::thread client([&] { run = RunCommand(command); });
  // Bounded: a client that ended early must fail the test, not hang it.
  for (const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       server->infer_calls() < 50 && std::chrono::steady_clock::now() < give_up;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server.reset();
  client.join();
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("is unreachable"));
  EXPECT_THAT(run.out, HasSubstr("aborted at 2: the server was unreachable"));
  std::ifstream in(json_path);
  nlohmann::json j = nlohmann::json::parse(in);
  ASSERT_EQ(j["levels"].size(), 1u);  // concurrency 4 never ran
  EXPECT_EQ(j["levels"][0]["unreachable"], true);
  EXPECT_GT(j["levels"][0]["successes"], 0);
}

// --concurrency and --request-rate are two modes, and --max-inflight
// belongs to the open loop: mixing them is a usage error (both were
// silently ignored).
TEST(CliNoServerTest, PerfModeFlagConflictsAreUsageErrors) {
  struct Case {
    const char* flags;
    const char* message;
  };
  for (const Case& c : {
           Case{"perf m --concurrency 4 --request-rate 100", "excludes --request-rate"},
           Case{"perf m --max-inflight 8", "--max-inflight requires --request-rate"},
       }) {
    CommandRun run =
        RunCommand(std::string(MLPSERVE_CLIENT_BIN) + " --url 127.0.0.1:1 " + c.flags + " 2>&1");
    EXPECT_EQ(run.exit_code, 2) << c.flags << ": " << run.out;
    EXPECT_THAT(run.out, HasSubstr(c.message)) << c.flags;
    EXPECT_THAT(run.out, ::testing::Not(HasSubstr("UNAVAILABLE"))) << c.flags;
  }
  CommandRun ok = RunCommand(std::string(MLPSERVE_CLIENT_BIN) +
                             " --url 127.0.0.1:1 perf m --request-rate 10 --max-inflight 8 "
                             "--requests 1 2>&1");
  EXPECT_EQ(ok.exit_code, 1) << ok.out;  // flags fine; the server is not there
}

// --token-file may be a pipe: perf read it twice (once for the runner,
// once for the metadata call), so `--token-file <(...)` failed "is empty".
TEST_F(CliTest, PerfReadsTheTokenFileOnce) {
  for (const char* rpc : {"double", "--rpc live"}) {
    CommandRun run = RunCommand(std::string("bash -c '") + MLPSERVE_CLIENT_BIN + " --url " +
                                server_.address() + " --token-file <(printf secret) perf " + rpc +
                                " --concurrency 1 --requests 3 --warmup 0' 2>&1");
    EXPECT_EQ(run.exit_code, 0) << rpc << ": " << run.out;
    EXPECT_THAT(run.out, ::testing::Not(HasSubstr("is empty"))) << rpc;
  }
}

// TLS files perf cannot use are usage errors naming the flag, as in every
// other subcommand (perf said "bad --url or --timeout" and exited 1).
TEST(CliNoServerTest, PerfTlsMisconfigurationIsAUsageError) {
  const std::string dir = mlpserve::testing::MakeTempDir("cli_perf_tls");
  ASSERT_FALSE(dir.empty());
  const std::string cert = dir + "/cert.pem";
  std::ofstream(cert) << "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  for (const char* command : {"perf m --requests 1", "perf --rpc live --requests 1"}) {
    CommandRun run = RunCommand(std::string(MLPSERVE_CLIENT_BIN) +
                                " --url 127.0.0.1:1 --tls-cert " + cert + " " + command + " 2>&1");
    EXPECT_EQ(run.exit_code, 2) << command << ": " << run.out;
    EXPECT_THAT(run.out, HasSubstr("--tls-cert and --tls-key go together")) << command;
    EXPECT_THAT(run.out, ::testing::Not(HasSubstr("bad --url"))) << command;
  }
}

// A file that is not what its TLS flag takes is a usage error naming it
// (it was "UNAVAILABLE: empty address list", exit 1, at the first call).
TEST(CliNoServerTest, TlsFilesWithoutTheirPemArmourAreUsageErrors) {
  const std::string dir = mlpserve::testing::MakeTempDir("cli_pem");
  ASSERT_FALSE(dir.empty());
  const std::string cert = dir + "/cert.pem";
  const std::string key = dir + "/some.key";
  std::ofstream(cert) << "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  std::ofstream(key) << "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  struct Case {
    std::string flags;
    std::string message;
  };
  for (const Case& c : {
           Case{"--tls-ca " + key, "--tls-ca: '" + key + "' is not a PEM certificate bundle"},
           Case{"--tls-ca " + cert + " --tls-cert " + key + " --tls-key " + key,
                "--tls-cert: '" + key + "' is not a PEM certificate"},
           Case{"--tls-ca " + cert + " --tls-cert " + cert + " --tls-key " + cert,
                "--tls-key: '" + cert + "' is not a PEM private key"},
       }) {
    for (const char* command : {"health", "perf m --requests 1"}) {
      CommandRun run = RunCommand(std::string(MLPSERVE_CLIENT_BIN) + " --url 127.0.0.1:1 " +
                                  c.flags + " " + command + " 2>&1");
      EXPECT_EQ(run.exit_code, 2) << c.flags << " " << command << ": " << run.out;
      EXPECT_THAT(run.out, HasSubstr(c.message)) << command;
    }
  }
}

// An unwritable --json is found before the run, not after it (it was
// reported only once every level had run, with exit 1).
TEST(CliNoServerTest, PerfUnwritableJsonIsAUsageErrorBeforeAnyCall) {
  CommandRun run = RunCommand(std::string(MLPSERVE_CLIENT_BIN) +
                              " --url 127.0.0.1:1 perf m --requests 1 --json "
                              "/nonexistent-dir/perf.json 2>&1");
  EXPECT_EQ(run.exit_code, 2) << run.out;
  EXPECT_THAT(run.out, HasSubstr("--json: cannot write '/nonexistent-dir/perf.json'"));
  EXPECT_THAT(run.out, ::testing::Not(HasSubstr("UNAVAILABLE")));
}

// A --batch beyond what one message can carry is a usage error; it used to
// abort in the allocator (bad_alloc / length_error, exit 134).
TEST_F(CliTest, HugeBatchIsAUsageError) {
  for (const char* command :
       {"infer double --random --batch 100000000000", "infer double --random --batch 200000000",
        "perf double --batch 100000000000 --requests 1",
        "perf double --batch 200000000 --requests 1 --warmup 0"}) {
    CommandRun run = Client(std::string(command) + " 2>&1");
    EXPECT_EQ(run.exit_code, 2) << command << ": " << run.out;
    EXPECT_THAT(run.out, HasSubstr("--batch: ")) << command;
  }
}

// perf exits 1 when requests failed, as perf_analyzer does, with the table
// still printed (it exited 0 unless a level had no success at all).
TEST_F(CliTest, PerfExitsOneWhenRequestsFail) {
  server_.FailEvery(4, grpc::StatusCode::UNAVAILABLE);
  CommandRun run = Client("perf double --concurrency 2 --requests 40 --warmup 0 2>/dev/null");
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("errors at 2: UNAVAILABLE=10"));
}

// --timeout bounds the whole of `health`, not each of its three calls: with
// ServerLive held past the deadline, the later calls have no time left
// (before, each got a full --timeout of its own: the command took up to 3x
// it, and this one answered SERVING, exit 0).
TEST_F(CliTest, HealthTimeoutBoundsTheWholeCommand) {
  server_.HoldServerLive(std::chrono::milliseconds(1500));
  CommandRun run = RunCommand(std::string(MLPSERVE_CLIENT_BIN) + " --url " + server_.address() +
                              " --timeout 0.3 health 2>/dev/null");
  EXPECT_EQ(run.exit_code, 1) << run.out;
  nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_TRUE(j["live"].is_null()) << run.out;
  EXPECT_TRUE(j["ready"].is_null()) << run.out;
  EXPECT_EQ(j["health"], "UNREACHABLE");
  EXPECT_THAT(j["error"].get<std::string>(), HasSubstr("DEADLINE_EXCEEDED"));
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

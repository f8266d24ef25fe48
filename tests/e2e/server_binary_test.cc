// The real binaries, as a user runs them: flags (against README.md's tables), exit
// codes, logged ports, the CLI client, PyTorch parity through the server, SIGTERM.
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
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

// The long flags ("--name", not --help) of a CLI11 --help text's option lines
// ("  --name TYPE ..." or "  -h,--help ...").
std::set<std::string> HelpFlags(const std::string& help) {
  std::set<std::string> flags;
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    if (!absl::ConsumePrefix(&line, "  ") || !absl::StartsWith(line, "-")) continue;
    for (absl::string_view name : absl::StrSplit(line.substr(0, line.find(' ')), ',')) {
      if (absl::StartsWith(name, "--") && name != "--help") flags.emplace(name);
    }
  }
  return flags;
}

// The names in a CLI11 --help text's "Subcommands:" section.
std::set<std::string> HelpSubcommands(const std::string& help) {
  std::set<std::string> names;
  const size_t start = help.find("\nSubcommands:\n");
  if (start == std::string::npos) return names;
  for (absl::string_view line : absl::StrSplit(help.substr(start + 14), '\n')) {
    if (!absl::ConsumePrefix(&line, "  ")) break;
    if (!absl::StartsWith(line, " ")) names.emplace(line.substr(0, line.find(' ')));
  }
  return names;
}

// Every "--name" in `text`.
std::set<std::string> FlagsIn(const std::string& text) {
  std::set<std::string> flags;
  static const std::regex kFlag("--[a-z0-9][a-z0-9-]*");
  for (std::sregex_iterator it(text.begin(), text.end(), kFlag), end; it != end; ++it) {
    flags.insert(it->str());
  }
  return flags;
}

// README.md's section "## <title>", up to the next "## ".
std::string ReadmeSection(const std::string& title) {
  const std::string readme = ReadFile(std::string(MLPSERVE_SOURCE_DIR) + "/README.md");
  const size_t start = readme.find("\n## " + title + "\n");
  if (start == std::string::npos) return "";
  return readme.substr(start + 1, readme.find("\n## ", start + 1) - start);
}

// The first cells (text between the first two unescaped '|', "\|" kept as
// "|") of the rows of the table in `section` whose header starts with
// `header`, the separator row left out.
std::vector<std::string> FirstCells(const std::string& section, const std::string& header) {
  std::vector<std::string> cells;
  const size_t start = section.find("\n" + header);
  if (start == std::string::npos) return cells;
  for (absl::string_view line : absl::StrSplit(section.substr(start + 1), '\n')) {
    if (!absl::ConsumePrefix(&line, "|")) break;
    std::string cell;
    for (size_t i = 0; i < line.size() && line[i] != '|'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') ++i;
      cell.push_back(line[i]);
    }
    if (!absl::StartsWith(absl::StripAsciiWhitespace(cell), "---")) cells.push_back(cell);
  }
  if (!cells.empty()) cells.erase(cells.begin());  // the header
  return cells;
}

// The names in `a` that are not in `b`, comma-separated ("" if none).
std::string Missing(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::vector<std::string> missing;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(missing));
  return absl::StrJoin(missing, ", ");
}

// Every flag the server defines (its --help) is a row of README.md's "Server
// flags" table, and every flag there is one the server has.
TEST(ServerBinaryTest, HelpDocumentsEveryFlag) {
  RunResult result = RunCommand({kServer, "--help"});
  EXPECT_EQ(result.exit_code, 0);
  const std::set<std::string> defined = HelpFlags(result.output);
  ASSERT_FALSE(defined.empty()) << result.output;
  EXPECT_THAT(defined,
              ::testing::IsSupersetOf({"--model-repository", "--grpc-address", "--metrics-address",
                                       "--log-level", "--shutdown-grace-secs"}));
  std::set<std::string> documented;
  for (const std::string& cell : FirstCells(ReadmeSection("Server flags"), "| flag |")) {
    documented.merge(FlagsIn(cell));
  }
  EXPECT_EQ(Missing(defined, documented), "")
      << "flags of `mlpserve --help` without a row in README.md's \"Server flags\" table";
  EXPECT_EQ(Missing(documented, defined), "")
      << "flags in README.md's \"Server flags\" table that `mlpserve --help` does not have";
}

// The client's subcommands (and `models`' own) are the rows of README.md's
// CLI table in "Calling it", each row's flags are flags of its subcommand,
// and every global option is mentioned in that section.
TEST(ServerBinaryTest, ClientHelpMatchesTheReadme) {
  RunResult help = RunCommand({kClient, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  const std::set<std::string> subcommands = HelpSubcommands(help.output);
  ASSERT_FALSE(subcommands.empty()) << help.output;
  const std::string section = ReadmeSection("Calling it");
  std::set<std::string> documented;
  for (const std::string& cell : FirstCells(section, "| command |")) {
    const std::vector<std::string> words = absl::StrSplit(
        absl::StripAsciiWhitespace(absl::StrReplaceAll(cell, {{"`", ""}})), ' ', absl::SkipEmpty());
    if (words.empty()) continue;
    const std::string& name = words[0];
    documented.insert(name);
    if (subcommands.count(name) == 0) continue;  // reported below
    RunResult sub = RunCommand({kClient, name, "--help"});
    EXPECT_EQ(sub.exit_code, 0) << sub.output;
    EXPECT_EQ(Missing(FlagsIn(cell), HelpFlags(sub.output)), "")
        << "flags in README.md's row for `" << name << "` that `" << name << " --help` lacks";
    const std::set<std::string> nested = HelpSubcommands(sub.output);
    if (nested.empty()) continue;
    std::set<std::string> nested_documented;  // `models list | load NAME | ...`
    for (absl::string_view alternative : absl::StrSplit(cell, '|')) {
      std::vector<std::string> w =
          absl::StrSplit(absl::StripAsciiWhitespace(absl::StrReplaceAll(alternative, {{"`", ""}})),
                         ' ', absl::SkipEmpty());
      if (!w.empty() && w[0] == name) w.erase(w.begin());
      if (!w.empty()) nested_documented.insert(w[0]);
    }
    EXPECT_EQ(nested, nested_documented) << "`" << name << "` subcommands vs README.md's row";
  }
  EXPECT_EQ(Missing(subcommands, documented), "")
      << "subcommands of `mlpserve-client --help` without a row in README.md's CLI table";
  EXPECT_EQ(Missing(documented, subcommands), "")
      << "rows of README.md's CLI table that are not mlpserve-client subcommands";
  for (const std::string& flag : HelpFlags(help.output)) {
    EXPECT_TRUE(absl::StrContains(section, "`" + flag + "`") ||
                absl::StrContains(section, "`" + flag + " "))
        << "global option " << flag << " of `mlpserve-client --help` is not in README.md's "
        << "\"Calling it\" (as `" << flag << "` or `" << flag << " VALUE`)";
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

// make soak: the real mlpserve binary under hours-in-minutes of what
// production sends it. Client threads mix valid and hostile ModelInfer calls
// (soak_traffic.h); a new version of one model appears every few seconds and
// the server's poller swaps it in; bursts of 32 clients overload a slow
// model. At the end: calls by kind and status code, server RSS after warm-up
// and at the end, and the exit code after SIGTERM.
//
// Fails (exit 1) on any status code a call's kind does not allow, a wrong
// answer, a server that dies or does not exit 0 on SIGTERM, RSS growth above
// --max-rss-growth, bursts that were never shed, or versions never swapped in.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "proto/inference.grpc.pb.h"
#include "tests/soak/soak_models.h"
#include "tests/soak/soak_traffic.h"
#include "tests/support/server_process.h"

namespace mlpserve::testing {
namespace {

struct Flags {
  int duration_secs = 300;
  int warmup_secs = 30;
  int clients = 6;
  int roll_every_secs = 5;
  int burst_every_secs = 30;
  int burst_secs = 3;
  int burst_clients = 32;
  double max_rss_growth = 0.05;
  std::vector<std::string> kinds;
  std::string report;
  std::string json;
};

bool Near(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::fabs(got[i] - want[i]) > 1e-4f * std::max(1.f, std::fabs(want[i]))) return false;
  }
  return true;
}

constexpr size_t kRssWindow = 30;  // samples, one a second

// 0 for no values.
int64_t Median(std::vector<int64_t> values) {
  if (values.empty()) return 0;
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

// Resident set size of `pid` in bytes (VmRSS); 0 if it cannot be read.
int64_t ResidentBytes(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    int64_t kib = 0;
    if (line.rfind("VmRSS:", 0) == 0 && std::sscanf(line.c_str(), "VmRSS: %ld", &kib) == 1) {
      return kib * 1024;
    }
  }
  return 0;
}

// One call of `kind`, recorded; an OK answer that must match is checked
// against the reference of the version it names.
void Exchange(inference::GRPCInferenceService::Stub& stub, TrafficKind kind, std::mt19937& rng,
              const SoakModels& models, SoakTally& tally) {
  const SoakCall call = MakeCall(kind, rng);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + call.timeout));
  inference::ModelInferResponse response;
  const grpc::Status status = stub.ModelInfer(&context, call.request, &response);
  tally.Record(kind, status);
  if (!status.ok() || !call.check) return;
  int64_t version = 0;
  if (!absl::SimpleAtoi(response.model_version(), &version)) {
    tally.WrongAnswer(
        absl::StrCat(Spec(kind).name, ": model_version '", response.model_version(), "'"));
    return;
  }
  tally.VersionSeen(call.request.model_name(), version);
  const std::string& bytes =
      response.raw_output_contents_size() == 1 ? response.raw_output_contents(0) : std::string();
  std::vector<float> got(bytes.size() / sizeof(float));
  std::memcpy(got.data(), bytes.data(), got.size() * sizeof(float));
  if (!Near(got, models.Reference(call.request.model_name(), version, call.input, call.rows))) {
    tally.WrongAnswer(absl::StrCat(Spec(kind).name, ": ", call.request.model_name(), " version ",
                                   version, " answered rows that differ from its reference"));
  }
}

std::shared_ptr<grpc::Channel> Channel(const ServerProcess& server) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxSendMessageSize(-1);  // let oversized calls reach the server's limit
  return grpc::CreateCustomChannel(server.url(), grpc::InsecureChannelCredentials(), arguments);
}

int Soak(const Flags& flags) {
  absl::StatusOr<TrafficMix> mix = TrafficMix::Create(flags.kinds);
  if (!mix.ok()) {
    std::fprintf(stderr, "soak: --kinds: %s\n", std::string(mix.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<SoakModels>> models = SoakModels::Create();
  if (!models.ok()) {
    std::fprintf(stderr, "soak: %s\n", std::string(models.status().message()).c_str());
    return 1;
  }
  ServerProcess server((*models)->root(),
                       {"--model-control-mode", "poll", "--repository-poll-secs", "1",
                        "--max-request-bytes", absl::StrCat(kSoakMaxRequestBytes)});
  if (!server.ready()) {
    std::fprintf(stderr, "soak: the server did not start\n%s", server.log().c_str());
    return 1;
  }
  const pid_t pid = server.pid();
  std::fprintf(stderr, "soak: %d s, %d clients, server pid %d, repository %s\n",
               flags.duration_secs, flags.clients, pid, (*models)->root().c_str());

  SoakTally tally;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  auto channel = Channel(server);
  for (int c = 0; c < flags.clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = inference::GRPCInferenceService::NewStub(channel);
      std::mt19937 rng(1000 + c);
      while (!stop.load()) Exchange(*stub, mix->Pick(rng), rng, **models, tally);
    });
  }
  std::atomic<int64_t> rolls{0};
  std::atomic<int64_t> bursts{0};
  std::string roll_error;
  threads.emplace_back([&] {  // a new version of "rolling" every roll_every_secs
    for (absl::Time next = absl::Now();; next += absl::Seconds(flags.roll_every_secs)) {
      while (!stop.load() && absl::Now() < next) absl::SleepFor(absl::Milliseconds(50));
      if (stop.load()) return;
      if (absl::StatusOr<int64_t> version = (*models)->Roll(); version.ok()) {
        ++rolls;
      } else {
        roll_error = std::string(version.status().message());
        return;
      }
    }
  });
  threads.emplace_back([&] {  // overload bursts on "slow"
    auto burst_channel = Channel(server);
    for (absl::Time next = absl::Now() + absl::Seconds(flags.burst_every_secs / 2);;
         next += absl::Seconds(flags.burst_every_secs)) {
      while (!stop.load() && absl::Now() < next) absl::SleepFor(absl::Milliseconds(50));
      if (stop.load()) return;
      const absl::Time end = absl::Now() + absl::Seconds(flags.burst_secs);
      std::vector<std::thread> burst;
      for (int b = 0; b < flags.burst_clients; ++b) {
        burst.emplace_back([&, b] {
          auto stub = inference::GRPCInferenceService::NewStub(burst_channel);
          std::mt19937 rng(5000 + b);
          while (!stop.load() && absl::Now() < end) {
            Exchange(*stub, TrafficKind::kOverload, rng, **models, tally);
          }
        });
      }
      for (std::thread& t : burst) t.join();
      ++bursts;
    }
  });

  // Sample RSS once a second. RSS moves by a few percent from second to
  // second (bursts, reloads), so growth compares medians of windows, not two
  // samples: the first kRssWindow seconds after the warm-up with the last.
  const absl::Time start = absl::Now();
  const absl::Time warm = start + absl::Seconds(flags.warmup_secs);
  const absl::Time end = start + absl::Seconds(flags.duration_secs);
  std::vector<int64_t> samples;  // after the warm-up
  bool died = false;
  while (absl::Now() < end) {
    absl::SleepFor(absl::Seconds(1));
    const int64_t rss = ResidentBytes(pid);
    if (rss == 0) {
      died = true;
      break;
    }
    if (absl::Now() >= warm) samples.push_back(rss);
    std::fprintf(stderr, "\rsoak: %3.0f s  valid calls %s  unexpected %ld  RSS %.1f MiB   ",
                 absl::ToDoubleSeconds(absl::Now() - start),
                 absl::StrCat(tally.Count(TrafficKind::kValid, grpc::StatusCode::OK)).c_str(),
                 tally.unexpected(), rss / 1048576.0);
  }
  const size_t window = std::min<size_t>(kRssWindow, samples.size() / 3);
  const int64_t rss_start = Median({samples.begin(), samples.begin() + window});
  const int64_t rss_end = Median({samples.end() - window, samples.end()});
  const int64_t rss_max = samples.empty() ? 0 : *std::max_element(samples.begin(), samples.end());
  std::fprintf(stderr, "\n");
  stop = true;
  for (std::thread& t : threads) t.join();
  server.Signal(SIGTERM);
  const std::optional<int> exit_code = server.Wait(absl::Seconds(60));

  const double growth = rss_start > 0 ? double(rss_end) / double(rss_start) - 1 : 0;
  const int64_t shed = tally.Count(TrafficKind::kOverload, grpc::StatusCode::RESOURCE_EXHAUSTED);
  const size_t versions = tally.VersionsSeen("rolling");
  std::vector<std::string> failures;
  if (tally.unexpected() > 0) failures.push_back("unexpected status codes");
  if (tally.wrong_answers() > 0) failures.push_back("wrong answers");
  if (died) failures.push_back("the server died");
  if (exit_code != std::optional<int>(0)) failures.push_back("no clean exit 0 on SIGTERM");
  if (rss_start == 0) failures.push_back("no RSS baseline (run > 3 s longer than the warm-up)");
  if (growth > flags.max_rss_growth) failures.push_back("RSS grew");
  if (bursts > 0 && shed == 0) failures.push_back("the overload bursts were never shed");
  if (!roll_error.empty()) failures.push_back("rolling a version failed: " + roll_error);
  if (rolls >= 2 && versions < 2) failures.push_back("new versions were never served");

  std::string summary = absl::StrFormat(
      "soak: %d s, %d clients, %d version rolls, %d overload bursts of %d clients\n",
      flags.duration_secs, flags.clients, rolls.load(), bursts.load(), flags.burst_clients);
  absl::StrAppend(&summary, tally.Report());
  absl::StrAppendFormat(&summary, "  rolling versions answered: %d\n", versions);
  absl::StrAppendFormat(
      &summary,
      "  server RSS (medians of %d s windows): %.1f MiB after %d s warm-up, %.1f MiB "
      "at the end (%+.2f%%, limit %+.0f%%), max %.1f MiB\n",
      window, rss_start / 1048576.0, flags.warmup_secs, rss_end / 1048576.0, growth * 100,
      flags.max_rss_growth * 100, rss_max / 1048576.0);
  absl::StrAppend(&summary, "  exit code after SIGTERM: ",
                  exit_code ? absl::StrCat(*exit_code) : "none (still running)", "\n");
  for (const std::string& failure : failures)
    absl::StrAppend(&summary, "soak: FAIL: ", failure, "\n");
  absl::StrAppend(&summary, failures.empty() ? "soak: PASS\n" : "");
  std::printf("%s", summary.c_str());
  if (!flags.report.empty()) std::ofstream(flags.report) << summary;
  if (!flags.json.empty()) {
    nlohmann::json report = {{"duration_secs", flags.duration_secs},
                             {"clients", flags.clients},
                             {"rolls", rolls.load()},
                             {"bursts", bursts.load()},
                             {"unexpected", tally.unexpected()},
                             {"wrong_answers", tally.wrong_answers()},
                             {"rss_start_bytes", rss_start},
                             {"rss_end_bytes", rss_end},
                             {"rss_max_bytes", rss_max},
                             {"rss_growth", growth},
                             {"exit_code", exit_code ? *exit_code : -1},
                             {"failures", failures}};
    std::ofstream(flags.json) << report.dump(2) << "\n";
  }
  if (failures.empty()) return 0;
  std::printf("server log:\n%s\n", server.log().substr(0, 4000).c_str());
  return 1;
}

}  // namespace
}  // namespace mlpserve::testing

int main(int argc, char** argv) {
  CLI::App app{"soak: mixed valid and hostile traffic, reloads and overload against mlpserve"};
  mlpserve::testing::Flags flags;
  app.add_option("--duration-secs", flags.duration_secs, "How long to run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup-secs", flags.warmup_secs, "When the RSS baseline is taken")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--clients", flags.clients, "Client threads of mixed traffic")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--roll-every-secs", flags.roll_every_secs, "A new model version this often")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--burst-every-secs", flags.burst_every_secs, "An overload burst this often")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--burst-secs", flags.burst_secs, "How long each burst lasts")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--burst-clients", flags.burst_clients, "Clients of each burst")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-rss-growth", flags.max_rss_growth,
                 "Fail when RSS at the end exceeds the post-warm-up RSS by this fraction")
      ->capture_default_str();
  app.add_option(
         "--kinds", flags.kinds,
         "Send only these kinds of calls (valid, rolling, short_deadline, ...; default all)")
      ->delimiter(',');
  app.add_option("--report", flags.report,
                 "Also write the summary printed at the end to this file");
  app.add_option("--json", flags.json, "Also write the figures as JSON to this file");
  CLI11_PARSE(app, argc, argv);
  return mlpserve::testing::Soak(flags);
}

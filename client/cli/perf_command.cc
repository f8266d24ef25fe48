// `perf`: runs PerfRunner over each concurrency level (or one request rate)
// and prints the table; --json also writes the machine-readable report.
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/lib/infer_codec.h"
#include "client/lib/perf_report.h"
#include "client/lib/perf_runner.h"
#include "client/lib/tensor_json.h"
#include "spdlog/spdlog.h"

namespace mlpserve::client::cli {
namespace {

struct PerfFlags {
  std::string model;
  std::string version;
  std::string rpc = "infer";
  std::vector<int> concurrency = {1, 4, 16, 64};
  std::string duration = "10s";
  int64_t requests = 0;
  int64_t batch = 1;
  double request_rate = 0;
  int max_in_flight = 1024;
  std::string warmup = "1s";
  std::string json_path;
  int connections = 1;
  bool typed = false;
  uint64_t seed = 0;
};

// The ModelInfer request every call sends: random rows shaped by
// `signature`. INVALID_ARGUMENT for a --batch too large for one message.
absl::StatusOr<inference::ModelInferRequest> MakeRequest(const InputSignature& signature,
                                                         const PerfFlags& f) {
  absl::StatusOr<Tensor> input = RandomInput(signature.name, f.batch, signature.features, f.seed);
  if (!input.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--batch: ", input.status().message()));
  }
  return BuildInferRequest(InferSpec{f.model, f.version, "perf", f.typed}, *input);
}

// Every level, each checked by ValidateLevelSpec: the flags are usage
// errors before any call.
absl::StatusOr<std::vector<LevelSpec>> MakeLevels(const PerfFlags& f) {
  LevelSpec base;
  base.requests = f.requests;
  absl::StatusOr<std::chrono::nanoseconds> duration = ParseDurationFlag(f.duration, "--duration");
  if (!duration.ok()) return duration.status();
  absl::StatusOr<std::chrono::nanoseconds> warmup = ParseDurationFlag(f.warmup, "--warmup");
  if (!warmup.ok()) return warmup.status();
  base.duration = *duration;
  base.warmup = *warmup;
  base.max_in_flight = f.max_in_flight;
  std::vector<LevelSpec> levels;
  if (f.request_rate > 0) {
    base.request_rate = f.request_rate;
    levels.push_back(base);
  } else {
    for (int c : f.concurrency) {
      LevelSpec level = base;
      level.concurrency = c;
      levels.push_back(level);
    }
  }
  for (const LevelSpec& level : levels) {
    if (absl::Status s = ValidateLevelSpec(level); !s.ok()) return s;
  }
  return levels;
}

int RunPerf(const GlobalFlags& flags, const PerfFlags& f) {
  PerfRunner::Options options;
  absl::StatusOr<std::string> target = InferenceClient::TargetFromUrl(flags.url);
  if (!target.ok()) {
    spdlog::error("{}", std::string(target.status().message()));
    return 2;
  }
  options.target = *std::move(target);
  // Flags first (--duration, --warmup, --request-rate...): a usage error
  // whatever the server.
  absl::StatusOr<std::vector<LevelSpec>> levels = MakeLevels(f);
  if (!levels.ok()) {
    spdlog::error("{}", std::string(levels.status().message()));
    return 2;
  }
  if (f.rpc != "live" && f.model.empty()) {
    spdlog::error("perf: MODEL is required unless --rpc live");
    return 2;
  }
  if (f.rpc != "live" && f.batch > kMaxElements) {
    spdlog::error("--batch: {} rows are more than one message can carry", f.batch);
    return 2;
  }
  // The --json file is opened now, not found unwritable after the run.
  std::ofstream json_out;
  if (!f.json_path.empty()) {
    json_out.open(f.json_path);
    if (!json_out) {
      spdlog::error("--json: cannot write '{}'", f.json_path);
      return 2;
    }
  }
  // The token and the TLS files are read once (--token-file and --tls-ca
  // may be pipes), for the client and the runner alike; bad TLS files are
  // usage errors too.
  absl::StatusOr<InferenceClient::Options> client_options = ClientOptions(flags);
  if (!client_options.ok()) {
    spdlog::error("{}", std::string(client_options.status().message()));
    return 2;
  }
  absl::StatusOr<ChannelSecurity> security = MakeChannelSecurity(flags.tls);
  if (!security.ok()) {
    spdlog::error("{}", std::string(security.status().message()));
    return 2;
  }
  absl::StatusOr<std::unique_ptr<InferenceClient>> client =
      InferenceClient::Create(*client_options, *security);
  if (!client.ok()) {
    spdlog::error("{}", std::string(client.status().message()));
    return 2;
  }
  options.token = client_options->token;
  options.deadline = client_options->timeout;
  options.connections = f.connections;
  PerfContext context{options.target, f.rpc, "", 0};
  if (f.rpc == "live") {
    // One ServerLive first, as `infer` reads the model's metadata first: an
    // unreachable server is one error line, not a level of failed calls.
    absl::StatusOr<bool> live = (*client)->ServerLive();
    if (!live.ok()) {
      spdlog::error("{}", std::string(live.status().message()));
      return 1;
    }
    options.rpc = PerfRpc::kLive;
    options.rows_per_request = 0;
  } else {
    absl::StatusOr<inference::ModelMetadataResponse> metadata =
        (*client)->ModelMetadata(f.model, f.version);
    absl::StatusOr<InputSignature> signature =
        metadata.ok() ? InputSignatureFromMetadata(*metadata) : metadata.status();
    if (!signature.ok()) {
      spdlog::error("{}", std::string(signature.status().message()));
      return 1;
    }
    absl::StatusOr<inference::ModelInferRequest> request = MakeRequest(*signature, f);
    if (!request.ok()) {
      spdlog::error("{}", std::string(request.status().message()));
      return 2;
    }
    options.request = std::move(*request);
    options.rows_per_request = f.batch;
    context.model = f.model;
    context.batch = f.batch;
  }
  absl::StatusOr<std::unique_ptr<PerfRunner>> runner =
      PerfRunner::Create(std::move(options), *security);
  if (!runner.ok()) {
    spdlog::error("{}", std::string(runner.status().message()));
    return 2;
  }
  // The server's side of each level (ModelStatistics at the start and the
  // end of its measured window), as perf_analyzer reports it; a server that
  // cannot say is warned about once.
  bool server_stats = f.rpc != "live";
  auto read_stats = [&]() -> std::optional<inference::ModelStatisticsResponse> {
    if (!server_stats) return std::nullopt;
    absl::StatusOr<inference::ModelStatisticsResponse> stats =
        (*client)->ModelStatistics(f.model, f.version);
    if (stats.ok()) return *std::move(stats);
    spdlog::warn("no server-side figures: {}", std::string(stats.status().message()));
    server_stats = false;
    return std::nullopt;
  };
  std::vector<LevelResult> results;
  for (const LevelSpec& level : *levels) {
    const std::string label = level.request_rate > 0 ? absl::StrCat("rate=", level.request_rate)
                                                     : absl::StrCat("c=", level.concurrency);
    PerfProgress last;
    auto progress = [&](const PerfProgress& p) {
      std::cerr << FormatProgress(label, p, last) << std::endl;
      last = p;
    };
    std::optional<inference::ModelStatisticsResponse> before;
    std::optional<inference::ModelStatisticsResponse> after;
    PerfRunner::WindowHooks window;
    window.start = [&] { before = read_stats(); };
    window.end = [&] {
      if (before.has_value()) after = read_stats();
    };
    absl::StatusOr<LevelResult> result = (*runner)->RunLevel(level, progress, window);
    if (!result.ok()) {
      spdlog::error("{}", std::string(result.status().message()));
      return 2;
    }
    if (after.has_value()) {
      absl::StatusOr<ServerSideStats> server = ServerSideDelta(*before, *after, f.model);
      // The server answered at least every request the client saw succeed,
      // unless the version restarted its counters (a reload) during the level.
      // With --connections N behind a load balancer, the statistics may be
      // another backend's than the calls': the figures need one server.
      if (server.ok() && server->requests < static_cast<uint64_t>(result->successes)) {
        server = absl::InvalidArgumentError(
            absl::StrCat("the server counted ", server->requests, " OK requests for the client's ",
                         result->successes, ": model '", f.model,
                         "' was reloaded during the level, or the target is load-balanced "
                         "across servers"));
      }
      if (server.ok()) {
        result->server = *server;
      } else {
        spdlog::warn("no server-side figures for this level: {}",
                     std::string(server.status().message()));
      }
    }
    if (result->sent > 0 && result->sent_late * 10 > result->sent) {
      spdlog::warn(
          "perf: at {}, {} of {} requests were sent more than 1 ms after they were due (up to "
          "{:.3f} ms): this client cannot keep the rate; their latency counts from the due time",
          label, result->sent_late, result->sent, result->max_send_lag_ms);
    }
    const bool unreachable = result->unreachable;
    results.push_back(std::move(*result));
    if (unreachable) {
      spdlog::error(
          "perf: the server at {} is unreachable: every call failed UNAVAILABLE for a second at "
          "{}; run aborted (the figures so far follow)",
          context.target, label);
      break;
    }
  }
  std::cout << FormatPerfTable(context, results) << std::flush;
  if (!f.json_path.empty()) {
    json_out << DumpJson(PerfReportJson(context, results), 2) << "\n";
    json_out.close();
    if (!json_out) {
      spdlog::error("--json: cannot write '{}'", f.json_path);
      return 1;
    }
  }
  // Exit 1 when a request failed in some level (inside its window or after
  // it), as perf_analyzer fails a run with failed requests, or when a
  // level's window had no successful request (its figures measure nothing,
  // even if some completed in the drain): a script must not take such
  // figures for a clean run. Requests the open loop did not send are
  // reported, not failures.
  int exit_code = 0;
  for (const LevelResult& r : results) {
    if (r.unreachable) exit_code = 1;
    if (r.successes == 0) {
      spdlog::error(
          "perf: no request succeeded inside the measured window at {}: no latency "
          "or throughput was measured",
          r.spec.request_rate > 0 ? absl::StrCat("rate ", r.spec.request_rate, "/s")
                                  : absl::StrCat("concurrency ", r.spec.concurrency));
      exit_code = 1;
    }
    if (r.errors + r.drain.errors > 0) exit_code = 1;
  }
  return exit_code;
}

}  // namespace

void AddPerfCommand(CLI::App* app, const GlobalFlags* flags, int* exit_code) {
  CLI::App* sub = app->add_subcommand(
      "perf", "Load generator: per concurrency level, req/s, rows/s, latency percentiles");
  auto f = std::make_shared<PerfFlags>();
  sub->add_option("model", f->model, "Model name (not needed with --rpc live)");
  sub->add_option("--version", f->version, "Model version (default: the server picks)");
  sub->add_option("--rpc", f->rpc, "RPC to load: infer (ModelInfer) or live (ServerLive)")
      ->capture_default_str()
      ->check(CLI::IsMember({"infer", "live"}));
  auto* concurrency =
      sub->add_option("--concurrency", f->concurrency, "Closed-loop levels: requests in flight")
          ->delimiter(',')
          ->capture_default_str()
          ->check(Positive());
  auto* duration = sub->add_option("--duration", f->duration, "Time per level (10s, 500ms, 2m)")
                       ->capture_default_str();
  auto* requests =
      sub->add_option("--requests", f->requests, "Requests per level instead")->check(Positive());
  duration->excludes(requests);
  sub->add_option("--batch", f->batch, "Rows per request")
      ->capture_default_str()
      ->check(Positive());
  auto* request_rate =
      sub->add_option("--request-rate", f->request_rate, "Open loop at R requests/s")
          ->check(Positive());
  sub->add_option("--max-inflight", f->max_in_flight, "Open loop: cap on outstanding requests")
      ->capture_default_str()
      ->check(Positive())
      ->needs(request_rate);
  // The closed loop's levels and the open loop's rate are two modes.
  concurrency->excludes(request_rate);
  sub->add_option("--warmup", f->warmup, "Uncounted warm-up per level")->capture_default_str();
  sub->add_option("--json", f->json_path, "Also write the report as JSON to this file");
  sub->add_option("--connections", f->connections, "gRPC channels (TCP connections)")
      ->capture_default_str()
      ->check(Positive());
  sub->add_flag("--typed", f->typed, "Send contents.fp32_contents instead of raw bytes");
  sub->add_option("--seed", f->seed, "Seed of the random input rows")->capture_default_str();
  sub->callback([=] { *exit_code = RunPerf(*flags, *f); });
}

}  // namespace mlpserve::client::cli

// mlpserve: serves the MLPs of a model repository over KServe v2 gRPC, with
// Prometheus metrics on a second port. This file only parses flags and wires
// the parts together; each part documents itself in its header.

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "server/common/host_port.h"
#include "server/common/malloc_tuning.h"
#include "server/common/protobuf_log.h"
#include "server/common/signal_watcher.h"
#include "server/metrics/http_server.h"
#include "server/metrics/metrics_registry.h"
#include "server/repository/model_repository.h"
#include "server/repository/repository_controller.h"
#include "server/rpc/graceful_shutdown.h"
#include "server/rpc/grpc_server.h"
#include "server/rpc/inference_service.h"
#include "server/rpc/readiness.h"
#include "spdlog/spdlog.h"

namespace mlpserve {
namespace {

struct Flags {
  std::string model_repository;
  std::string grpc_address = "0.0.0.0:8001";
  std::string metrics_address = "0.0.0.0:8002";
  std::string log_level = "info";
  int shutdown_grace_secs = 30;
  int max_connection_age_secs = 0;
  int max_request_bytes = 64 << 20;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string model_control_mode = "none";
  int repository_poll_secs = 15;
  std::vector<std::string> load_models;
  std::string auth_token_file;
  bool auth_inference = false;
  bool strict_readiness = false;
};

void AddFlags(CLI::App& app, Flags& flags) {
  app.add_option("--model-repository", flags.model_repository,
                 "Directory with one folder per model: <model>/config.pbtxt (optional) and "
                 "<model>/<version>/model.onnx")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--model-control-mode", flags.model_control_mode,
                 "none: load every model at start; poll: also load, reload and unload what "
                 "changes in the repository while serving; explicit: load only --load-model "
                 "models at start, then RepositoryModelLoad / Unload")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "poll", "explicit"}));
  app.add_option("--repository-poll-secs", flags.repository_poll_secs,
                 "poll mode: seconds between looks at the repository")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.add_option("--load-model", flags.load_models,
                 "explicit mode: a model to load at start (repeatable)");
  app.add_option("--grpc-address", flags.grpc_address,
                 "HOST:PORT of the KServe v2 gRPC endpoint; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--metrics-address", flags.metrics_address,
                 "HOST:PORT of the HTTP endpoint serving /metrics and /activations; port 0 "
                 "picks a free port")
      ->capture_default_str();
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error, critical or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--max-request-bytes", flags.max_request_bytes,
                 "Largest gRPC request message accepted; larger ones are refused with "
                 "RESOURCE_EXHAUSTED")
      ->capture_default_str()
      ->check(CLI::Range(1024, 1 << 30));
  app.add_option("--tls-cert", flags.tls_cert,
                 "PEM server certificate (chain); with --tls-key the gRPC port speaks TLS only")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", flags.tls_key, "PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-client-ca", flags.tls_client_ca,
                 "PEM CA bundle; clients must present a certificate it signed (mutual TLS)")
      ->check(CLI::ExistingFile);
  app.add_option("--auth-token-file", flags.auth_token_file,
                 "File holding a bearer token that model control RPCs must carry "
                 "('authorization: Bearer <token>')")
      ->check(CLI::ExistingFile);
  app.add_flag("--auth-inference", flags.auth_inference,
               "Require the token for inference and model metadata too (not for liveness, "
               "readiness or health)");
  app.add_flag("--strict-readiness", flags.strict_readiness,
               "Ready (ServerReady, grpc.health.v1 \"\") only while every model has a ready "
               "version; without it, ready once the start-up load is over. grpc.health.v1 "
               "\"liveness\" is SERVING either way");
  app.add_option("--max-connection-age-secs", flags.max_connection_age_secs,
                 "Send clients a GOAWAY on connections older than this (+-10%), so that they "
                 "reconnect and a load balancer spreads them over the servers there are now; "
                 "calls in flight get --shutdown-grace-secs to finish. 0: never")
      ->capture_default_str()
      ->check(CLI::Range(0, 86400 * 24));
  app.add_option("--shutdown-grace-secs", flags.shutdown_grace_secs,
                 "On SIGTERM/SIGINT, how long requests in flight may take to finish")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

int Serve(const Flags& flags, const MallocTuning& malloc_tuning) {
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  spdlog::info("{}", malloc_tuning.detail);
  for (const auto& [address, flag] : {std::pair{flags.grpc_address, "--grpc-address"},
                                      std::pair{flags.metrics_address, "--metrics-address"}}) {
    if (absl::StatusOr<HostPort> parsed = ParseHostPort(address, flag); !parsed.ok()) {
      spdlog::critical("{}", std::string(parsed.status().message()));
      return 2;
    }
  }
  SignalWatcher signals;  // before any thread starts: they inherit its mask

  absl::StatusOr<std::unique_ptr<MetricsRegistry>> metrics = MetricsRegistry::Create();
  if (!metrics.ok()) {
    spdlog::critical("metrics: {}", std::string(metrics.status().message()));
    return 1;
  }
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http =
      MetricsHttpServer::Create(flags.metrics_address, metrics->get());
  if (!http.ok()) {
    spdlog::critical("{}", std::string(http.status().message()));
    return 1;
  }
  Readiness readiness(flags.strict_readiness);
  ModelRepository::Options repository_options;
  repository_options.root = flags.model_repository;
  repository_options.metrics = metrics->get();
  repository_options.on_change = [&readiness] { readiness.Update(); };
  absl::StatusOr<std::unique_ptr<ModelRepository>> repository =
      ModelRepository::Create(repository_options);
  if (!repository.ok()) {
    spdlog::critical("{}", std::string(repository.status().message()));
    return 1;
  }

  std::optional<TokenAuth> auth;
  if (!flags.auth_token_file.empty()) {
    absl::StatusOr<TokenAuth> loaded = TokenAuth::FromFile(flags.auth_token_file);
    if (!loaded.ok()) {
      spdlog::critical("{}", std::string(loaded.status().message()));
      return 1;
    }
    auth.emplace(*std::move(loaded));
  } else if (flags.auth_inference) {
    spdlog::critical("--auth-inference needs --auth-token-file");
    return 2;
  }

  const bool poll = flags.model_control_mode == "poll";
  const bool explicit_control = flags.model_control_mode == "explicit";
  if (!flags.load_models.empty() && !explicit_control) {
    spdlog::critical("--load-model needs --model-control-mode explicit");
    return 2;
  }
  signals.Start([repo = repository->get()] { repo->StopLoading(); });
  // Explicit mode's loads and unloads run on it from the first call; poll
  // mode's polls start once the start-up load is done (polling during it
  // saw every model not loaded yet as changed on disk).
  std::optional<RepositoryController> controller;
  if (explicit_control) controller.emplace(repository->get(), absl::ZeroDuration());

  // Marked before gRPC serves: a request that arrives before its model's
  // load begins hears "is loading", not NOT_FOUND.
  const bool load_at_start = !explicit_control || !flags.load_models.empty();
  std::vector<std::string> to_load;
  if (load_at_start) {
    to_load = (*repository)
                  ->MarkLoading(explicit_control ? flags.load_models : std::vector<std::string>{});
  }

  InferenceService::Options service_options;
  service_options.controller = controller ? &*controller : nullptr;
  service_options.auth = auth ? &*auth : nullptr;
  service_options.auth_inference = flags.auth_inference;
  service_options.repository = repository->get();
  service_options.metrics = metrics->get();
  service_options.server_version = MLPSERVE_VERSION;
  InferenceService service(service_options);
  GrpcServer::Options grpc_options;
  grpc_options.address = flags.grpc_address;
  grpc_options.service = &service;
  grpc_options.max_receive_message_bytes = flags.max_request_bytes;
  grpc_options.tls_cert_file = flags.tls_cert;
  grpc_options.tls_key_file = flags.tls_key;
  grpc_options.tls_client_ca_file = flags.tls_client_ca;
  if (flags.max_connection_age_secs > 0) {
    grpc_options.max_connection_age = absl::Seconds(flags.max_connection_age_secs);
    // At least a second: a grace of 0 would cut every call in flight.
    grpc_options.max_connection_age_grace = absl::Seconds(std::max(flags.shutdown_grace_secs, 1));
  }
  absl::StatusOr<std::unique_ptr<GrpcServer>> grpc = GrpcServer::Start(grpc_options);
  if (!grpc.ok()) {
    spdlog::critical("{}", std::string(grpc.status().message()));
    return 1;
  }
  readiness.Attach(repository->get(), &service, grpc->get());
  spdlog::info("mlpserve {} listening: gRPC on port {}{}, metrics on port {}", MLPSERVE_VERSION,
               (*grpc)->port(), flags.tls_cert.empty() ? "" : " (TLS)", (*http)->port());

  if (load_at_start) {
    (*repository)->LoadAll(to_load);
  } else {
    spdlog::info("explicit model control: no model loaded at start");
  }
  if (poll) controller.emplace(repository->get(), absl::Seconds(flags.repository_poll_secs));
  if (!signals.terminated()) {
    if (readiness.Start()) {
      spdlog::info("ready: serving model repository '{}'", flags.model_repository);
    } else {
      spdlog::warn(
          "not ready: serving model repository '{}', but a model has no ready version "
          "(--strict-readiness); `mlpserve-client models list` says which and why",
          flags.model_repository);
    }
  }

  const int signal = signals.Wait();
  readiness.Stop();
  spdlog::info("received {}: draining for up to {}s", strsignal(signal), flags.shutdown_grace_secs);
  if (GracefulShutdown(service, **repository, controller ? &*controller : nullptr, **grpc,
                       absl::Seconds(flags.shutdown_grace_secs))) {
    spdlog::info("gRPC server stopped: every accepted call answered");
  } else {
    spdlog::warn(
        "gRPC server stopped: the {}s grace period ran out; calls still running were "
        "cancelled (their clients saw UNAVAILABLE 'Cancelling all calls')",
        flags.shutdown_grace_secs);
  }
  controller.reset();   // no load or poll runs past this point
  repository->reset();  // answers whatever is still queued
  spdlog::info("shut down cleanly");
  return 0;
}

}  // namespace
}  // namespace mlpserve

int main(int argc, char** argv) {
  // Before any thread starts: see malloc_tuning.h (logged once logging is set).
  const mlpserve::MallocTuning malloc_tuning =
      mlpserve::TuneMallocForServing(std::getenv("GLIBC_TUNABLES"));
  // Debian builds abseil with its debug-mode deadlock detection, which
  // records lock ordering in a global graph on every nested lock: ~4% of the
  // server's CPU per tiny request (perf). Tests keep it on; the server
  // does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  mlpserve::RouteProtobufLogsToSpdlog();  // before any thread starts
  CLI::App app{"mlpserve: serves ONNX MLPs over the KServe v2 gRPC protocol", "mlpserve"};
  mlpserve::Flags flags;
  mlpserve::AddFlags(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 2, as the server's own flag checks do (CLI11's own
    // codes, 105-109, said nothing to an operator); --help exits 0.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return mlpserve::Serve(flags, malloc_tuning);
}

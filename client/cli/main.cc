// mlpserve-client: talks to an mlpserve (or any KServe v2 gRPC) server.
//   mlpserve-client [--url host:port] [--timeout S] [--token-file F] [--tls-ca F ...] health
//   mlpserve-client metadata MODEL [--version V]
//   mlpserve-client infer MODEL (--input FILE.json | --random) [--batch N] ...
//   mlpserve-client perf MODEL [--concurrency 1,4,16] [--duration 10s] ...
//   mlpserve-client models list | load NAME | unload NAME | stats [NAME]
// Run any subcommand with --help for its flags.
//
// Exit codes: 0 success; 1 the call failed (server unreachable, error
// status, not SERVING); 2 bad usage or input (flags, --url, input files).
#include <cstdlib>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "client/cli/commands.h"
#include "client/lib/inference_client.h"
#include "server/common/malloc_tuning.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  // `perf` sends and receives the same large messages as the server: the
  // same allocator settings keep the load generator from paying page faults
  // per request (see server/common/malloc_tuning.h).
  mlpserve::TuneMallocForServing(std::getenv("GLIBC_TUNABLES"));
  // Logs go to stderr; stdout carries only results (JSON, tables).
  spdlog::set_default_logger(spdlog::stderr_color_mt("mlpserve-client"));
  spdlog::set_pattern("%^%l%$: %v");
  // Debian's abseil runs its debug-mode deadlock detection on every nested
  // lock (~3% of the load generator's CPU in perf); the CLI has no use for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  namespace cli = mlpserve::client::cli;
  CLI::App app{"mlpserve-client: KServe v2 gRPC client and load generator for mlpserve"};
  cli::GlobalFlags flags;
  app.add_option("--url", flags.url,
                 "Server address HOST:PORT (or a gRPC target URI: dns:///, unix:///)")
      ->capture_default_str()
      ->check([](const std::string& url) {
        absl::StatusOr<std::string> target = mlpserve::client::InferenceClient::TargetFromUrl(url);
        return target.ok() ? std::string() : std::string(target.status().message());
      });
  app.add_option("--timeout", flags.timeout_s,
                 "Deadline in seconds: of the whole command (perf: of each request)")
      ->capture_default_str()
      ->check(cli::TimeoutSeconds());
  app.add_option("--token-file", flags.token_file,
                 "File with the server's bearer token (sent as 'authorization: Bearer ...')")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-ca", flags.tls.ca_file,
                 "PEM CA bundle to verify the server's certificate; turns TLS on")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-cert", flags.tls.cert_file,
                 "PEM client certificate for mutual TLS (with --tls-key)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", flags.tls.key_file, "PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-server-name", flags.tls.server_name,
                 "Name the server's certificate must carry, when not the host in --url");
  app.require_subcommand(1);

  int exit_code = 1;
  cli::AddHealthCommand(&app, &flags, &exit_code);
  cli::AddMetadataCommand(&app, &flags, &exit_code);
  cli::AddInferCommand(&app, &flags, &exit_code);
  cli::AddPerfCommand(&app, &flags, &exit_code);
  cli::AddModelsCommand(&app, &flags, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is an "error" with exit code 0.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}

// Subcommands of mlpserve-client. Each Add*Command registers one CLI11
// subcommand on `app`; when it runs, its callback writes the process exit
// code to *exit_code (0 success, 1 failure, 2 usage). Flags shared by all
// subcommands live in GlobalFlags, parsed before any callback runs.
#ifndef MLPSERVE_CLIENT_CLI_COMMANDS_H_
#define MLPSERVE_CLIENT_CLI_COMMANDS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "client/lib/inference_client.h"

namespace mlpserve::client::cli {

// A CLI11 check that the value is a number > 0, with a plain message
// ("must be a positive number, got '0'") instead of CLI::PositiveNumber's
// "not in range 0.000000 to 1797693134862315708...".
CLI::Validator Positive();

// --timeout: seconds from 1 ms to kMaxTimeoutSeconds (a week; beyond, the
// deadline arithmetic would overflow).
inline constexpr double kMaxTimeoutSeconds = 7 * 24 * 3600;
CLI::Validator TimeoutSeconds();

struct GlobalFlags {
  std::string url = "localhost:8001";  // --url host:port
  // --timeout in seconds: the deadline of the whole command (health,
  // metadata, infer, models), of each request in perf.
  double timeout_s = 10;
  std::string token_file;  // --token-file, bearer token for the server
  TlsFiles tls;            // --tls-ca, --tls-cert, --tls-key, --tls-server-name
};

// The client options for the global flags: url, TLS files, --timeout as the
// per-call timeout, and the token, read here from --token-file (once: it may
// be a pipe, as `--token-file <(pass show token)` is). Errors name the file.
absl::StatusOr<InferenceClient::Options> ClientOptions(const GlobalFlags& flags);

// A client for the global flags (ClientOptions) whose calls all end by one
// deadline, --timeout from now: --timeout bounds the whole command, however
// many calls it makes. Logs and returns null on bad flags (exit 2).
std::unique_ptr<InferenceClient> MakeClient(const GlobalFlags& flags);

// `health [--service NAME]`: {"live", "ready", "service", "health"} as JSON,
// "health" being grpc.health.v1's status of NAME ("" by default: readiness;
// mlpserve also serves "liveness"); exit 0 only when SERVING.
void AddHealthCommand(CLI::App* app, const GlobalFlags* flags, int* exit_code);
// `metadata MODEL [--version V]`: the model's metadata as JSON.
void AddMetadataCommand(CLI::App* app, const GlobalFlags* flags, int* exit_code);
// `infer MODEL (--input FILE | --random) ...`: one inference, result as JSON.
void AddInferCommand(CLI::App* app, const GlobalFlags* flags, int* exit_code);
// `perf MODEL ...`: the load generator (perf_command.cc).
void AddPerfCommand(CLI::App* app, const GlobalFlags* flags, int* exit_code);
// `models list | load NAME | unload NAME | stats [NAME]` (models_command.cc).
void AddModelsCommand(CLI::App* app, const GlobalFlags* flags, int* exit_code);

}  // namespace mlpserve::client::cli

#endif  // MLPSERVE_CLIENT_CLI_COMMANDS_H_

#include "tests/support/server_process.h"

#include <signal.h>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mlpserve::testing {

ServerProcess::ServerProcess(const std::string& repository,
                             const std::vector<std::string>& extra_flags)
    : log_(MakeTempDir("mlpserve_log") + "/mlpserve.log") {
  std::vector<std::string> argv = {kServerBinary,    "--model-repository", repository,
                                   "--grpc-address", "127.0.0.1:0",        "--metrics-address",
                                   "127.0.0.1:0"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  process_.emplace(Subprocess::Start(argv, log_));
  grpc_port_ = WaitForLog(log_, "gRPC on port ([0-9]+)", absl::Seconds(60)).value_or("");
  metrics_port_ = WaitForLog(log_, "metrics on port ([0-9]+)", absl::Seconds(60)).value_or("");
  ready_ = !grpc_port_.empty() && !metrics_port_.empty() &&
           WaitForLog(log_, "(ready): serving", absl::Seconds(60)).has_value();
}

std::unique_ptr<inference::GRPCInferenceService::Stub> ServerProcess::Stub() const {
  return inference::GRPCInferenceService::NewStub(
      grpc::CreateChannel(url(), grpc::InsecureChannelCredentials()));
}

std::optional<int> ServerProcess::Stop() {
  process_->Signal(SIGTERM);
  return process_->Wait(absl::Seconds(30));
}

}  // namespace mlpserve::testing

// The real mlpserve binary as a child process on free loopback ports, for
// end-to-end tests. The constructor waits (bounded) until the server logs
// that it is ready; the destructor SIGKILLs a server still running.
#ifndef MLPSERVE_TESTS_SUPPORT_SERVER_PROCESS_H_
#define MLPSERVE_TESTS_SUPPORT_SERVER_PROCESS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "proto/inference.grpc.pb.h"
#include "tests/support/subprocess.h"

namespace mlpserve::testing {

inline const std::string kServerBinary = std::string(MLPSERVE_BINARY_DIR) + "/bin/mlpserve";
inline const std::string kClientBinary = std::string(MLPSERVE_BINARY_DIR) + "/bin/mlpserve-client";
inline const std::string kBundledModels = std::string(MLPSERVE_SOURCE_DIR) + "/models";

class ServerProcess {
 public:
  // Serves `repository` on 127.0.0.1:0 (gRPC and metrics) with `extra_flags`.
  ServerProcess(const std::string& repository, const std::vector<std::string>& extra_flags = {});

  // Both ports were logged and the server said it is ready.
  bool ready() const { return ready_; }
  std::string url() const { return "127.0.0.1:" + grpc_port_; }
  std::string metrics_url(const std::string& path = "/metrics") const {
    return "http://127.0.0.1:" + metrics_port_ + path;
  }
  std::string log() const { return ReadFile(log_); }
  // A plaintext stub on url().
  std::unique_ptr<inference::GRPCInferenceService::Stub> Stub() const;

  pid_t pid() const { return process_->pid(); }  // -1 once it has exited
  void Signal(int signal) { process_->Signal(signal); }
  std::optional<int> Wait(absl::Duration timeout) { return process_->Wait(timeout); }
  // SIGTERM, then the exit code (nullopt if it does not exit within 30 s).
  std::optional<int> Stop();

 private:
  std::string log_;
  std::optional<Subprocess> process_;
  std::string grpc_port_;
  std::string metrics_port_;
  bool ready_ = false;
};

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_SUPPORT_SERVER_PROCESS_H_

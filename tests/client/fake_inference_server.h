// FakeInferenceServer: an in-process GRPCInferenceService for client tests.
//
// Serves one model, "double" (versions "1"), with input "x" FP32 [-1, F] and
// output "y" FP32 [-1, F]; ModelInfer answers y = 2 * x. Raw inputs get raw
// outputs, typed inputs typed outputs. gRPC's default health service runs
// too (SERVING). Listens on 127.0.0.1 with a port the kernel picks.
// Thread-safe: the gRPC sync server calls it from its own threads.
#ifndef MLPSERVE_TESTS_CLIENT_FAKE_INFERENCE_SERVER_H_
#define MLPSERVE_TESTS_CLIENT_FAKE_INFERENCE_SERVER_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server.h"
#include "proto/inference.grpc.pb.h"

namespace mlpserve::client::testing {

class FakeInferenceServer final : public inference::GRPCInferenceService::Service {
 public:
  static constexpr int64_t kFeatures = 4;

  // Starts serving; aborts the test binary if the server cannot start.
  FakeInferenceServer();
  ~FakeInferenceServer() override;

  // "127.0.0.1:<port>".
  const std::string& address() const { return address_; }

  // Every `n`-th ModelInfer (n > 0; 0 disables) fails with `code`.
  void FailEvery(int n, grpc::StatusCode code) {
    fail_code_.store(code);
    fail_every_.store(n);
  }
  // The `n`-th ModelInfer (n > 0; 0 disables) is answered only after `hold`
  // (the handler sleeps on its own server thread; other calls go on).
  void HoldCall(int64_t n, std::chrono::milliseconds hold) {
    held_done_.store(false);
    hold_ms_.store(hold.count());
    hold_call_.store(n);
  }
  // Whether the call HoldCall named has been held and is being answered.
  bool held_call_done() const { return held_done_.load(); }
  // Every ServerLive is answered only after `hold` (0: at once).
  void HoldServerLive(std::chrono::milliseconds hold) { live_hold_ms_.store(hold.count()); }
  // Every ServerLive fails INTERNAL with `message` (any bytes; empty: OK).
  void FailServerLive(const std::string& message) {
    absl::MutexLock lock(&mu_);
    live_error_ = message;
  }
  int64_t infer_calls() const { return infer_calls_.load(); }

  grpc::Status ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                          inference::ServerLiveResponse* response) override;
  grpc::Status ServerReady(grpc::ServerContext*, const inference::ServerReadyRequest*,
                           inference::ServerReadyResponse* response) override;
  grpc::Status ModelMetadata(grpc::ServerContext*, const inference::ModelMetadataRequest* request,
                             inference::ModelMetadataResponse* response) override;
  grpc::Status ModelInfer(grpc::ServerContext*, const inference::ModelInferRequest* request,
                          inference::ModelInferResponse* response) override;

 private:
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::atomic<int> fail_every_{0};
  std::atomic<grpc::StatusCode> fail_code_{grpc::StatusCode::OK};
  std::atomic<int64_t> infer_calls_{0};
  std::atomic<int64_t> hold_call_{0};
  std::atomic<int64_t> hold_ms_{0};
  std::atomic<bool> held_done_{false};
  std::atomic<int64_t> live_hold_ms_{0};
  absl::Mutex mu_;
  std::string live_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mlpserve::client::testing

#endif  // MLPSERVE_TESTS_CLIENT_FAKE_INFERENCE_SERVER_H_

// The whole server stack in-process (metrics registry, model repository,
// inference service, gRPC server on 127.0.0.1:0, metrics HTTP server on
// 127.0.0.1:0), for tests that talk to it over real loopback sockets.
#ifndef MLPSERVE_TESTS_SUPPORT_TEST_SERVER_H_
#define MLPSERVE_TESTS_SUPPORT_TEST_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/inference.grpc.pb.h"
#include "server/common/clock.h"
#include "server/metrics/http_server.h"
#include "server/metrics/metrics_registry.h"
#include "server/repository/model_repository.h"
#include "server/rpc/grpc_server.h"
#include "server/rpc/inference_service.h"

namespace mlpserve::testing {

class TestServer {
 public:
  struct Options {
    // The repository RPCs load and unload (explicit mode).
    bool model_control = false;
    // LoadAll before serving; false: serves an empty index, the test loads.
    bool load_all = true;
    // ModelRepository::Options::on_version_load.
    std::function<void(const std::string& model, int64_t version)> on_version_load;
    // GrpcServer::Options' connection age and its grace.
    absl::Duration max_connection_age = absl::InfiniteDuration();
    absl::Duration max_connection_age_grace = absl::InfiniteDuration();
    // The request clock of the repository (schedulers) and the service;
    // null: Clock::Real(). Not owned; outlives the server.
    Clock* clock = nullptr;
  };
  // Loads every model under `repository` and starts serving. With
  // `model_control` the repository RPCs load and unload (explicit mode).
  static absl::StatusOr<std::unique_ptr<TestServer>> Start(const std::string& repository,
                                                           bool model_control = false);
  static absl::StatusOr<std::unique_ptr<TestServer>> Start(const std::string& repository,
                                                           const Options& options);
  ~TestServer();

  int grpc_port() const { return grpc_->port(); }
  int metrics_port() const { return http_->port(); }
  std::string grpc_target() const { return "127.0.0.1:" + std::to_string(grpc_port()); }
  std::unique_ptr<inference::GRPCInferenceService::Stub> NewStub() const;
  ModelRepository& repository() { return *repository_; }
  // What GracefulShutdown takes, for tests of the shutdown sequence.
  InferenceService& service() { return *service_; }
  GrpcServer& grpc_server() { return *grpc_; }

 private:
  TestServer() = default;
  std::unique_ptr<MetricsRegistry> metrics_;
  std::unique_ptr<MetricsHttpServer> http_;
  std::unique_ptr<ModelRepository> repository_;
  std::unique_ptr<RepositoryController> controller_;
  std::unique_ptr<InferenceService> service_;
  std::unique_ptr<GrpcServer> grpc_;
};

// Copies the bundled example model `name` from models/ into `repository`.
void CopyBundledModel(const std::string& name, const std::string& repository);

// Adds model `name` to `repository` as version 1 with the weights of the
// bundled model `bundled` and `config` as its config.pbtxt.
void AddModelWithBundledWeights(const std::string& repository, const std::string& name,
                                const std::string& bundled, const std::string& config);

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_SUPPORT_TEST_SERVER_H_

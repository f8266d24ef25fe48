#include "tests/support/test_server.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace mlpserve::testing {

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(const std::string& repository,
                                                              bool model_control) {
  Options options;
  options.model_control = model_control;
  return Start(repository, options);
}

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(const std::string& repository,
                                                              const Options& options) {
  std::unique_ptr<TestServer> server(new TestServer());
  absl::StatusOr<std::unique_ptr<MetricsRegistry>> metrics = MetricsRegistry::Create();
  if (!metrics.ok()) return metrics.status();
  server->metrics_ = *std::move(metrics);
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http =
      MetricsHttpServer::Create("127.0.0.1:0", server->metrics_.get());
  if (!http.ok()) return http.status();
  server->http_ = *std::move(http);

  ModelRepository::Options repository_options;
  repository_options.root = repository;
  repository_options.metrics = server->metrics_.get();
  repository_options.on_version_load = options.on_version_load;
  if (options.clock != nullptr) repository_options.clock = options.clock;
  absl::StatusOr<std::unique_ptr<ModelRepository>> repo =
      ModelRepository::Create(repository_options);
  if (!repo.ok()) return repo.status();
  server->repository_ = *std::move(repo);
  if (options.load_all) server->repository_->LoadAll();
  server->controller_ =
      std::make_unique<RepositoryController>(server->repository_.get(), absl::ZeroDuration());

  InferenceService::Options service_options;
  service_options.repository = server->repository_.get();
  service_options.metrics = server->metrics_.get();
  service_options.server_version = MLPSERVE_VERSION;
  if (options.clock != nullptr) service_options.clock = options.clock;
  service_options.controller = options.model_control ? server->controller_.get() : nullptr;
  server->service_ = std::make_unique<InferenceService>(service_options);
  GrpcServer::Options grpc_options;
  grpc_options.address = "127.0.0.1:0";
  grpc_options.service = server->service_.get();
  grpc_options.max_connection_age = options.max_connection_age;
  grpc_options.max_connection_age_grace = options.max_connection_age_grace;
  absl::StatusOr<std::unique_ptr<GrpcServer>> grpc = GrpcServer::Start(grpc_options);
  if (!grpc.ok()) return grpc.status();
  server->grpc_ = *std::move(grpc);
  server->service_->SetReady(true);
  server->grpc_->SetServing(true);
  return server;
}

TestServer::~TestServer() {
  if (grpc_) grpc_->Shutdown(absl::Seconds(5));
  controller_.reset();
  repository_.reset();
}

std::unique_ptr<inference::GRPCInferenceService::Stub> TestServer::NewStub() const {
  return inference::GRPCInferenceService::NewStub(
      grpc::CreateChannel(grpc_target(), grpc::InsecureChannelCredentials()));
}

void CopyBundledModel(const std::string& name, const std::string& repository) {
  std::filesystem::copy(std::filesystem::path(MLPSERVE_SOURCE_DIR) / "models" / name,
                        std::filesystem::path(repository) / name,
                        std::filesystem::copy_options::recursive);
}

void AddModelWithBundledWeights(const std::string& repository, const std::string& name,
                                const std::string& bundled, const std::string& config) {
  const std::filesystem::path model = std::filesystem::path(repository) / name;
  std::filesystem::create_directories(model / "1");
  std::filesystem::copy_file(
      std::filesystem::path(MLPSERVE_SOURCE_DIR) / "models" / bundled / "1" / "model.onnx",
      model / "1" / "model.onnx");
  std::ofstream(model / "config.pbtxt") << config;
}

}  // namespace mlpserve::testing

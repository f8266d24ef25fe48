// The KServe v2 GRPCInferenceService, on gRPC's callback API.
//
// ModelInfer never blocks a gRPC thread: it validates the request, hands it
// to the model version's scheduler and returns; whoever computes the batch
// (an executor, or the receiving thread on the scheduler's inline path)
// encodes the response and finishes the call. Every outcome is counted in
// the metrics with its status code. ModelInfer and ServerLive are
// registered raw (raw_unary.h): they parse their own request (ModelInfer's
// onto the call's arena) and serialize their own response, so a request that
// does not parse is INVALID_ARGUMENT; the other RPCs get that from
// UnparsableRequestInterceptorFactory.
//
// Thread-safety: all RPC handlers run concurrently; SetReady is thread-safe.
// Not owned: the repository and metrics registry, which must outlive the
// gRPC server this service is registered with.
#ifndef MLPSERVE_SERVER_RPC_INFERENCE_SERVICE_H_
#define MLPSERVE_SERVER_RPC_INFERENCE_SERVICE_H_

#include <array>
#include <atomic>
#include <string>

#include "proto/inference.grpc.pb.h"
#include "server/common/clock.h"
#include "server/metrics/metrics_registry.h"
#include "server/repository/model_repository.h"
#include "server/repository/repository_controller.h"
#include "server/rpc/token_auth.h"

namespace mlpserve {

class InferenceService final
    : public inference::GRPCInferenceService::WithRawCallbackMethod_ModelInfer<
          inference::GRPCInferenceService::WithRawCallbackMethod_ServerLive<
              inference::GRPCInferenceService::CallbackService>> {
 public:
  // The methods registered raw (full names), whose handlers parse their own
  // request.
  static constexpr std::array<const char*, 2> kRawMethods = {
      "/inference.GRPCInferenceService/ModelInfer", "/inference.GRPCInferenceService/ServerLive"};

  struct Options {
    ModelRepository* repository = nullptr;  // required
    MetricsRegistry* metrics = nullptr;     // required
    std::string server_name = "mlpserve";
    std::string server_version;
    Clock* clock = Clock::Real();
    // Runs RepositoryModelLoad / Unload; null: model control is disabled
    // (modes none and poll) and they answer FAILED_PRECONDITION. Not owned.
    RepositoryController* controller = nullptr;
    // When set, model control RPCs need its bearer token; not owned.
    const TokenAuth* auth = nullptr;
    // Extends `auth` to ModelInfer, ModelMetadata, ModelConfig, ModelReady
    // and ModelStatistics. Liveness, readiness and health stay open for
    // probes.
    bool auth_inference = false;
  };

  explicit InferenceService(const Options& options) : options_(options) {}

  // ServerReady's answer, as Readiness decides it: false until the start-up
  // load is over, with --strict-readiness whenever a model has no ready
  // version, and for good once shutdown begins.
  void SetReady(bool ready) { ready_.store(ready, std::memory_order_release); }

  // Raw: `request` is the bytes of an inference.ServerLiveRequest; the
  // serialized inference.ServerLiveResponse goes to `response`.
  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* context,
                                        const inference::ServerReadyRequest* request,
                                        inference::ServerReadyResponse* response) override;
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* context,
                                       const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override;
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* context,
                                           const inference::ServerMetadataRequest* request,
                                           inference::ServerMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override;
  // Triton's model configuration extension: the completed config the
  // version runs with (ToTritonModelConfig). Same lookup, errors and auth
  // as ModelMetadata.
  grpc::ServerUnaryReactor* ModelConfig(grpc::CallbackServerContext* context,
                                        const inference::ModelConfigRequest* request,
                                        inference::ModelConfigResponse* response) override;
  // Raw: `request` is the bytes of an inference.ModelInferRequest; the
  // serialized inference.ModelInferResponse goes to `response`.
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;

  grpc::ServerUnaryReactor* ModelStatistics(grpc::CallbackServerContext* context,
                                            const inference::ModelStatisticsRequest* request,
                                            inference::ModelStatisticsResponse* response) override;
  grpc::ServerUnaryReactor* RepositoryIndex(grpc::CallbackServerContext* context,
                                            const inference::RepositoryIndexRequest* request,
                                            inference::RepositoryIndexResponse* response) override;
  grpc::ServerUnaryReactor* RepositoryModelLoad(
      grpc::CallbackServerContext* context, const inference::RepositoryModelLoadRequest* request,
      inference::RepositoryModelLoadResponse* response) override;
  grpc::ServerUnaryReactor* RepositoryModelUnload(
      grpc::CallbackServerContext* context, const inference::RepositoryModelUnloadRequest* request,
      inference::RepositoryModelUnloadResponse* response) override;

  // Triton's RPCs for extensions mlpserve does not serve
  // (unsupported_extensions.cc): each answers UNIMPLEMENTED naming the RPC
  // and what to do instead, whatever the request and with or without a
  // token (the answer reveals nothing). ModelStreamInfer ends the stream at
  // once, reading no message.
  grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
  ModelStreamInfer(grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* SystemSharedMemoryStatus(
      grpc::CallbackServerContext* context,
      const inference::SystemSharedMemoryStatusRequest* request,
      inference::SystemSharedMemoryStatusResponse* response) override;
  grpc::ServerUnaryReactor* SystemSharedMemoryRegister(
      grpc::CallbackServerContext* context,
      const inference::SystemSharedMemoryRegisterRequest* request,
      inference::SystemSharedMemoryRegisterResponse* response) override;
  grpc::ServerUnaryReactor* SystemSharedMemoryUnregister(
      grpc::CallbackServerContext* context,
      const inference::SystemSharedMemoryUnregisterRequest* request,
      inference::SystemSharedMemoryUnregisterResponse* response) override;
  grpc::ServerUnaryReactor* CudaSharedMemoryStatus(
      grpc::CallbackServerContext* context, const inference::CudaSharedMemoryStatusRequest* request,
      inference::CudaSharedMemoryStatusResponse* response) override;
  grpc::ServerUnaryReactor* CudaSharedMemoryRegister(
      grpc::CallbackServerContext* context,
      const inference::CudaSharedMemoryRegisterRequest* request,
      inference::CudaSharedMemoryRegisterResponse* response) override;
  grpc::ServerUnaryReactor* CudaSharedMemoryUnregister(
      grpc::CallbackServerContext* context,
      const inference::CudaSharedMemoryUnregisterRequest* request,
      inference::CudaSharedMemoryUnregisterResponse* response) override;
  grpc::ServerUnaryReactor* TraceSetting(grpc::CallbackServerContext* context,
                                         const inference::TraceSettingRequest* request,
                                         inference::TraceSettingResponse* response) override;
  grpc::ServerUnaryReactor* LogSettings(grpc::CallbackServerContext* context,
                                        const inference::LogSettingsRequest* request,
                                        inference::LogSettingsResponse* response) override;

 private:
  // OK, or UNAUTHENTICATED when a model control RPC lacks the token.
  absl::Status CheckControlAuth(const grpc::CallbackServerContext& context,
                                absl::string_view rpc) const;
  // Runs `task` on the controller and finishes the call with its status;
  // after the auth and control-mode checks, a non-OK `request_status` (the
  // request's own check) answers the call instead.
  grpc::ServerUnaryReactor* RunControl(grpc::CallbackServerContext* context, absl::string_view rpc,
                                       const absl::Status& request_status,
                                       absl::AnyInvocable<absl::Status()> task);

  // OK, or UNAUTHENTICATED when inference needs a token the call lacks.
  absl::Status CheckInferenceAuth(const grpc::CallbackServerContext& context,
                                  absl::string_view rpc) const;

  const Options options_;
  std::atomic<bool> ready_{false};
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_RPC_INFERENCE_SERVICE_H_

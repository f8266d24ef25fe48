// Triton's RPCs for extensions mlpserve does not serve: shared memory
// (system and CUDA), streaming inference, trace and log settings. gRPC would
// answer them UNIMPLEMENTED with no message, as if the server were broken;
// these say which RPC is not served and what to do instead.
#include <string>

#include "absl/strings/str_cat.h"
#include "server/rpc/inference_service.h"
#include "server/rpc/status_mapping.h"

namespace mlpserve {
namespace {

grpc::Status Unimplemented(absl::string_view rpc, absl::string_view why) {
  return ToGrpcStatus(absl::UnimplementedError(absl::StrCat(rpc, ": ", why)));
}

grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* context, absl::string_view rpc,
                                 absl::string_view why) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(Unimplemented(rpc, why));
  return reactor;
}

constexpr absl::string_view kNoSystemSharedMemory =
    "mlpserve has no system shared memory extension: send input tensors in the request "
    "(raw_input_contents) and read outputs from the response";
constexpr absl::string_view kNoCudaSharedMemory =
    "mlpserve has no CUDA shared memory extension (it runs on CPUs): send input tensors in the "
    "request (raw_input_contents) and read outputs from the response";

// Ends the stream at once, before reading any message; deletes itself when
// gRPC is done with it.
class RefusedStream final : public grpc::ServerBidiReactor<inference::ModelInferRequest,
                                                           inference::ModelStreamInferResponse> {
 public:
  RefusedStream() {
    Finish(Unimplemented("ModelStreamInfer",
                         "mlpserve has no streaming inference: send each request with the unary "
                         "ModelInfer (tritonclient: infer / async_infer, not start_stream)"));
  }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
InferenceService::ModelStreamInfer(grpc::CallbackServerContext*) {
  return new RefusedStream();
}

grpc::ServerUnaryReactor* InferenceService::SystemSharedMemoryStatus(
    grpc::CallbackServerContext* context, const inference::SystemSharedMemoryStatusRequest*,
    inference::SystemSharedMemoryStatusResponse*) {
  return Refuse(context, "SystemSharedMemoryStatus", kNoSystemSharedMemory);
}

grpc::ServerUnaryReactor* InferenceService::SystemSharedMemoryRegister(
    grpc::CallbackServerContext* context, const inference::SystemSharedMemoryRegisterRequest*,
    inference::SystemSharedMemoryRegisterResponse*) {
  return Refuse(context, "SystemSharedMemoryRegister", kNoSystemSharedMemory);
}

grpc::ServerUnaryReactor* InferenceService::SystemSharedMemoryUnregister(
    grpc::CallbackServerContext* context, const inference::SystemSharedMemoryUnregisterRequest*,
    inference::SystemSharedMemoryUnregisterResponse*) {
  return Refuse(context, "SystemSharedMemoryUnregister", kNoSystemSharedMemory);
}

grpc::ServerUnaryReactor* InferenceService::CudaSharedMemoryStatus(
    grpc::CallbackServerContext* context, const inference::CudaSharedMemoryStatusRequest*,
    inference::CudaSharedMemoryStatusResponse*) {
  return Refuse(context, "CudaSharedMemoryStatus", kNoCudaSharedMemory);
}

grpc::ServerUnaryReactor* InferenceService::CudaSharedMemoryRegister(
    grpc::CallbackServerContext* context, const inference::CudaSharedMemoryRegisterRequest*,
    inference::CudaSharedMemoryRegisterResponse*) {
  return Refuse(context, "CudaSharedMemoryRegister", kNoCudaSharedMemory);
}

grpc::ServerUnaryReactor* InferenceService::CudaSharedMemoryUnregister(
    grpc::CallbackServerContext* context, const inference::CudaSharedMemoryUnregisterRequest*,
    inference::CudaSharedMemoryUnregisterResponse*) {
  return Refuse(context, "CudaSharedMemoryUnregister", kNoCudaSharedMemory);
}

grpc::ServerUnaryReactor* InferenceService::TraceSetting(grpc::CallbackServerContext* context,
                                                         const inference::TraceSettingRequest*,
                                                         inference::TraceSettingResponse*) {
  return Refuse(context, "TraceSetting",
                "mlpserve has no trace extension: use its Prometheus metrics (/metrics) and "
                "ModelStatistics for request timings");
}

grpc::ServerUnaryReactor* InferenceService::LogSettings(grpc::CallbackServerContext* context,
                                                        const inference::LogSettingsRequest*,
                                                        inference::LogSettingsResponse*) {
  return Refuse(context, "LogSettings",
                "mlpserve has no logging extension: set its log level at start (mlpserve "
                "--log-level)");
}

}  // namespace mlpserve

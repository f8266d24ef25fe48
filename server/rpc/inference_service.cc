// Health, metadata and model configuration handlers. ModelInfer lives in model_infer.cc.
#include "server/rpc/inference_service.h"

#include <string>

#include "server/rpc/raw_unary.h"
#include "server/rpc/status_mapping.h"
#include "server/rpc/triton_config.h"

namespace mlpserve {
namespace {

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

void AddTensor(
    const ModelTensor& tensor,
    google::protobuf::RepeatedPtrField<inference::ModelMetadataResponse::TensorMetadata>* out) {
  inference::ModelMetadataResponse::TensorMetadata* meta = out->Add();
  meta->set_name(tensor.name());
  meta->set_datatype("FP32");
  meta->add_shape(-1);  // the batch dimension
  for (int64_t dim : tensor.dims()) meta->add_shape(dim);
}

}  // namespace

absl::Status InferenceService::CheckInferenceAuth(const grpc::CallbackServerContext& context,
                                                  absl::string_view rpc) const {
  if (options_.auth == nullptr || !options_.auth_inference) return absl::OkStatus();
  return options_.auth->Check(context, rpc);
}

grpc::ServerUnaryReactor* InferenceService::ServerLive(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request_bytes,
                                                       grpc::ByteBuffer* response_bytes) {
  inference::ServerLiveRequest request;
  inference::ServerLiveResponse response;
  response.set_live(true);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  FinishRaw(reactor, ParseRawRequest(*request_bytes, "ServerLive", &request), response,
            response_bytes);
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::ServerReady(grpc::CallbackServerContext* context,
                                                        const inference::ServerReadyRequest*,
                                                        inference::ServerReadyResponse* response) {
  response->set_ready(ready_.load(std::memory_order_acquire));
  return Finish(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ModelReady(grpc::CallbackServerContext* context,
                                                       const inference::ModelReadyRequest* request,
                                                       inference::ModelReadyResponse* response) {
  if (absl::Status auth = CheckInferenceAuth(*context, "ModelReady"); !auth.ok()) {
    return Finish(context, auth);
  }
  absl::StatusOr<std::shared_ptr<const ServableModel>> model =
      options_.repository->Get(request->name(), request->version());
  // A version that is not a number is the caller's error, as for ModelInfer;
  // any other model or version that does not serve (unknown, loading,
  // unloaded, failed) is simply not ready: OK with ready=false, as Triton
  // answers (its clients' is_model_ready() raises on an error status).
  if (model.status().code() == absl::StatusCode::kInvalidArgument) {
    return Finish(context, model.status());
  }
  response->set_ready(model.ok());
  return Finish(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ServerMetadata(
    grpc::CallbackServerContext* context, const inference::ServerMetadataRequest*,
    inference::ServerMetadataResponse* response) {
  response->set_name(options_.server_name);
  response->set_version(options_.server_version);
  // Triton's names for the protocol extensions served here, in Triton's
  // order. Not listed: classification, sequence, schedule_policy, shared
  // memory, binary_tensor_data (HTTP only), parameters, trace, logging.
  for (const char* extension : {"model_repository", "model_repository(unload_dependents)",
                                "model_configuration", "statistics"}) {
    response->add_extensions(extension);
  }
  return Finish(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ModelMetadata(
    grpc::CallbackServerContext* context, const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  if (absl::Status auth = CheckInferenceAuth(*context, "ModelMetadata"); !auth.ok()) {
    return Finish(context, auth);
  }
  absl::StatusOr<std::shared_ptr<const ServableModel>> model =
      options_.repository->Get(request->name(), request->version());
  if (!model.ok()) return Finish(context, model.status());
  // Qualified: inside InferenceService, ModelConfig names the RPC.
  const mlpserve::ModelConfig& config = (*model)->config();
  response->set_name((*model)->name());
  // As Triton: the version asked for, or every ready version when none is.
  if (!request->version().empty()) {
    response->add_versions((*model)->version_string());
  } else {
    for (int64_t version : options_.repository->ReadyVersions(request->name())) {
      response->add_versions(std::to_string(version));
    }
  }
  // The completed config's, as ModelConfig reports it ("onnxruntime_onnx"
  // when config.pbtxt names none: CompleteModelConfig).
  response->set_platform(config.platform());
  for (const ModelTensor& input : config.input()) AddTensor(input, response->mutable_inputs());
  for (const ModelTensor& output : config.output()) AddTensor(output, response->mutable_outputs());
  return Finish(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* InferenceService::ModelConfig(
    grpc::CallbackServerContext* context, const inference::ModelConfigRequest* request,
    inference::ModelConfigResponse* response) {
  if (absl::Status auth = CheckInferenceAuth(*context, "ModelConfig"); !auth.ok()) {
    return Finish(context, auth);
  }
  absl::StatusOr<std::shared_ptr<const ServableModel>> model =
      options_.repository->Get(request->name(), request->version());
  if (!model.ok()) return Finish(context, model.status());
  *response->mutable_config() = ToTritonModelConfig((*model)->config());
  return Finish(context, absl::OkStatus());
}

}  // namespace mlpserve

// The model repository extension: RepositoryIndex, RepositoryModelLoad,
// RepositoryModelUnload. Loads run on the RepositoryController's thread; the
// gRPC callback only queues them.
#include <string>

#include "server/rpc/inference_service.h"
#include "server/rpc/status_mapping.h"

namespace mlpserve {

absl::Status InferenceService::CheckControlAuth(const grpc::CallbackServerContext& context,
                                                absl::string_view rpc) const {
  if (options_.auth == nullptr) return absl::OkStatus();
  return options_.auth->Check(context, rpc);
}

grpc::ServerUnaryReactor* InferenceService::RepositoryIndex(
    grpc::CallbackServerContext* context, const inference::RepositoryIndexRequest* request,
    inference::RepositoryIndexResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status auth = CheckControlAuth(*context, "RepositoryIndex"); !auth.ok()) {
    reactor->Finish(ToGrpcStatus(auth));
    return reactor;
  }
  for (const ModelVersionStatus& status : options_.repository->Index()) {
    if (request->ready() && status.state != ModelState::kReady) continue;
    auto* model = response->add_models();
    model->set_name(status.name);
    if (status.version > 0) model->set_version(std::to_string(status.version));
    model->set_state(std::string(ModelStateName(status.state)));
    model->set_reason(status.reason);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::RunControl(grpc::CallbackServerContext* context,
                                                       absl::string_view rpc,
                                                       absl::AnyInvocable<absl::Status()> task) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status auth = CheckControlAuth(*context, rpc); !auth.ok()) {
    reactor->Finish(ToGrpcStatus(auth));
    return reactor;
  }
  if (options_.controller == nullptr) {
    reactor->Finish(ToGrpcStatus(
        absl::FailedPreconditionError(std::string(rpc) + " needs --model-control-mode explicit")));
    return reactor;
  }
  options_.controller->Submit(
      std::move(task), [reactor](absl::Status status) { reactor->Finish(ToGrpcStatus(status)); });
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::RepositoryModelLoad(
    grpc::CallbackServerContext* context, const inference::RepositoryModelLoadRequest* request,
    inference::RepositoryModelLoadResponse*) {
  return RunControl(context, "RepositoryModelLoad",
                    [repository = options_.repository, name = request->model_name()] {
                      return repository->LoadModel(name);
                    });
}

grpc::ServerUnaryReactor* InferenceService::RepositoryModelUnload(
    grpc::CallbackServerContext* context, const inference::RepositoryModelUnloadRequest* request,
    inference::RepositoryModelUnloadResponse*) {
  return RunControl(context, "RepositoryModelUnload",
                    [repository = options_.repository, name = request->model_name()] {
                      return repository->UnloadModel(name);
                    });
}

}  // namespace mlpserve

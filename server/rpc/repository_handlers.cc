// The model repository extension (RepositoryIndex, RepositoryModelLoad,
// RepositoryModelUnload) and the statistics extension (ModelStatistics). Loads run on the
// RepositoryController's thread; the gRPC callback only queues them.
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

namespace {

void SetDuration(uint64_t count, uint64_t ns, inference::StatisticDuration* out) {
  out->set_count(count);
  out->set_ns(ns);
}

void FillStatistics(const ServableModel& model, inference::ModelStatistics* out) {
  const ModelStatsSnapshot s = model.stats().Snapshot();
  out->set_name(model.name());
  out->set_version(model.version_string());
  out->set_last_inference(s.last_inference_ms);
  out->set_inference_count(s.inference_count);
  out->set_execution_count(s.execution_count);
  inference::InferStatistics* infer = out->mutable_inference_stats();
  SetDuration(s.success_count, s.success_ns, infer->mutable_success());
  SetDuration(s.fail_count, s.fail_ns, infer->mutable_fail());
  SetDuration(s.queue_count, s.queue_ns, infer->mutable_queue());
  SetDuration(s.compute_count, s.compute_ns, infer->mutable_compute_infer());
}

}  // namespace

grpc::ServerUnaryReactor* InferenceService::ModelStatistics(
    grpc::CallbackServerContext* context, const inference::ModelStatisticsRequest* request,
    inference::ModelStatisticsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status auth = CheckInferenceAuth(*context, "ModelStatistics"); !auth.ok()) {
    reactor->Finish(ToGrpcStatus(auth));
    return reactor;
  }
  if (request->name().empty() && !request->version().empty()) {
    reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError(
        "ModelStatistics: version '" + request->version() + "' given without a model name")));
    return reactor;
  }
  if (!request->name().empty() && !request->version().empty()) {
    absl::StatusOr<std::shared_ptr<const ServableModel>> model =
        options_.repository->Get(request->name(), request->version());
    if (!model.ok()) {
      reactor->Finish(ToGrpcStatus(model.status()));
      return reactor;
    }
    FillStatistics(**model, response->add_model_stats());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  if (!request->name().empty() && !options_.repository->HasModel(request->name())) {
    reactor->Finish(ToGrpcStatus(absl::NotFoundError("unknown model '" + request->name() + "'")));
    return reactor;
  }
  for (const ModelVersionStatus& status : options_.repository->Index()) {
    if (status.state != ModelState::kReady) continue;
    if (!request->name().empty() && status.name != request->name()) continue;
    absl::StatusOr<std::shared_ptr<const ServableModel>> model =
        options_.repository->Get(status.name, std::to_string(status.version));
    if (model.ok()) FillStatistics(**model, response->add_model_stats());
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

// The model repository extension (RepositoryIndex, RepositoryModelLoad,
// RepositoryModelUnload) and the statistics extension (ModelStatistics). Loads run on the
// RepositoryController's thread; the gRPC callback only queues them.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/common/utf8.h"
#include "server/rpc/inference_service.h"
#include "server/rpc/status_mapping.h"

namespace mlpserve {
namespace {

// OK when `name` names the served repository: empty, --model-repository as
// given, or that path's last folder name ("models" for /srv/models/).
absl::Status CheckRepositoryName(const std::string& name, const std::string& root,
                                 absl::string_view rpc) {
  // "/srv/models", "/srv/models/" and "/srv//models" name the same folder.
  auto normal = [](const std::string& path) {
    const std::string text = std::filesystem::path(path).lexically_normal().string();
    return text.size() > 1 ? std::string(absl::StripSuffix(text, "/")) : text;
  };
  if (name.empty() || normal(name) == normal(root)) return absl::OkStatus();
  const std::string base = std::filesystem::path(normal(root)).filename().string();
  if (!base.empty() && name == base) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(rpc, ": unknown repository '", ClientText(name),
                                                 "'; this server serves only '", base,
                                                 "' (--model-repository ", root, ")"));
}

// OK when Load's parameters are empty: mlpserve loads a model only from its
// folder (no "config" override, no "file:" contents).
absl::Status CheckLoadParameters(const inference::RepositoryModelLoadRequest& request) {
  if (request.parameters().empty()) return absl::OkStatus();
  std::vector<std::string> names;
  for (const auto& [name, value] : request.parameters()) names.push_back(name);
  std::sort(names.begin(), names.end());
  return absl::InvalidArgumentError(
      absl::StrCat("RepositoryModelLoad: parameter '", ClientText(names.front()),
                   "' is not supported: mlpserve loads model '", ClientText(request.model_name()),
                   "' from its folder in the repository only (no 'config' or 'file:' parameters)"));
}

// OK when Unload's parameters are at most a bool "unload_dependents" (a
// no-op: without ensembles a model has no dependents).
absl::Status CheckUnloadParameters(const inference::RepositoryModelUnloadRequest& request) {
  std::vector<std::string> names;
  for (const auto& [name, value] : request.parameters()) {
    if (name == "unload_dependents" &&
        value.parameter_choice_case() == inference::ModelRepositoryParameter::kBoolParam) {
      continue;
    }
    names.push_back(name);
  }
  if (names.empty()) return absl::OkStatus();
  std::sort(names.begin(), names.end());
  return absl::InvalidArgumentError(absl::StrCat(
      "RepositoryModelUnload: parameter '", ClientText(names.front()),
      "' is not supported (only 'unload_dependents', a bool, which changes nothing: mlpserve "
      "has no ensembles)"));
}

}  // namespace

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
  if (absl::Status name = CheckRepositoryName(request->repository_name(),
                                              options_.repository->root(), "RepositoryIndex");
      !name.ok()) {
    reactor->Finish(ToGrpcStatus(name));
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

// `clock`: the request clock, whose times ModelStats holds.
void FillStatistics(const ServableModel& model, const Clock& clock,
                    inference::ModelStatistics* out) {
  const ModelStatsSnapshot s = model.stats().Snapshot();
  out->set_name(model.name());
  out->set_version(model.version_string());
  if (s.last_inference != absl::InfinitePast()) {
    const absl::Time wall = ToWallTime(s.last_inference, clock.Now(), absl::Now());
    out->set_last_inference(static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixMillis(wall))));
  }
  out->set_inference_count(s.inference_count);
  out->set_execution_count(s.execution_count);
  inference::InferStatistics* infer = out->mutable_inference_stats();
  SetDuration(s.success_count, s.success_ns, infer->mutable_success());
  SetDuration(s.fail_count, s.fail_ns, infer->mutable_fail());
  SetDuration(s.queue_count, s.queue_ns, infer->mutable_queue());
  SetDuration(s.compute_count, s.compute_ns, infer->mutable_compute_infer());
  SetDuration(s.input_count, s.input_ns, infer->mutable_compute_input());
  SetDuration(s.output_count, s.output_ns, infer->mutable_compute_output());
  for (const BatchSizeStats& batch : s.batches) {
    inference::InferBatchStatistics* out_batch = out->add_batch_stats();
    out_batch->set_batch_size(static_cast<uint64_t>(batch.batch_size));
    SetDuration(batch.count, batch.input_ns, out_batch->mutable_compute_input());
    SetDuration(batch.count, batch.infer_ns, out_batch->mutable_compute_infer());
    SetDuration(batch.count, batch.output_ns, out_batch->mutable_compute_output());
  }
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
        absl::StrCat("ModelStatistics: version '", ClientText(request->version()),
                     "' given without a model name"))));
    return reactor;
  }
  if (!request->name().empty() && !request->version().empty()) {
    absl::StatusOr<std::shared_ptr<const ServableModel>> model =
        options_.repository->Get(request->name(), request->version());
    if (!model.ok()) {
      reactor->Finish(ToGrpcStatus(model.status()));
      return reactor;
    }
    FillStatistics(**model, *options_.clock, response->add_model_stats());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  if (!request->name().empty()) {
    // A named model with no ready version (unknown, loading, failed to load)
    // gets the error a ModelInfer to it would get, not an empty answer.
    if (absl::Status ready = options_.repository->Get(request->name(), "").status(); !ready.ok()) {
      reactor->Finish(ToGrpcStatus(ready));
      return reactor;
    }
  }
  for (const ModelVersionStatus& status : options_.repository->Index()) {
    if (status.state != ModelState::kReady) continue;
    if (!request->name().empty() && status.name != request->name()) continue;
    absl::StatusOr<std::shared_ptr<const ServableModel>> model =
        options_.repository->Get(status.name, std::to_string(status.version));
    if (model.ok()) FillStatistics(**model, *options_.clock, response->add_model_stats());
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::RunControl(grpc::CallbackServerContext* context,
                                                       absl::string_view rpc,
                                                       const absl::Status& request_status,
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
  if (!request_status.ok()) {
    reactor->Finish(ToGrpcStatus(request_status));
    return reactor;
  }
  options_.controller->Submit(
      std::move(task), [reactor](absl::Status status) { reactor->Finish(ToGrpcStatus(status)); });
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::RepositoryModelLoad(
    grpc::CallbackServerContext* context, const inference::RepositoryModelLoadRequest* request,
    inference::RepositoryModelLoadResponse*) {
  absl::Status request_status = CheckRepositoryName(
      request->repository_name(), options_.repository->root(), "RepositoryModelLoad");
  if (request_status.ok()) request_status = CheckLoadParameters(*request);
  return RunControl(context, "RepositoryModelLoad", request_status,
                    [repository = options_.repository, name = request->model_name()] {
                      return repository->LoadModel(name);
                    });
}

grpc::ServerUnaryReactor* InferenceService::RepositoryModelUnload(
    grpc::CallbackServerContext* context, const inference::RepositoryModelUnloadRequest* request,
    inference::RepositoryModelUnloadResponse*) {
  absl::Status request_status = CheckRepositoryName(
      request->repository_name(), options_.repository->root(), "RepositoryModelUnload");
  if (request_status.ok()) request_status = CheckUnloadParameters(*request);
  return RunControl(context, "RepositoryModelUnload", request_status,
                    [repository = options_.repository, name = request->model_name()] {
                      return repository->UnloadModel(name);
                    });
}

}  // namespace mlpserve

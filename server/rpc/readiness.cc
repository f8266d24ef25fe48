#include "server/rpc/readiness.h"

#include "spdlog/spdlog.h"

namespace mlpserve {

void Readiness::Attach(const ModelRepository* repository, InferenceService* service,
                       GrpcServer* grpc) {
  absl::MutexLock lock(&mu_);
  repository_ = repository;
  service_ = service;
  grpc_ = grpc;
}

bool Readiness::Start() {
  absl::MutexLock lock(&mu_);
  if (stopped_) return false;
  started_ = true;
  ready_ = !strict_ || repository_->AllModelsReady();
  service_->SetReady(ready_);
  grpc_->SetServing(ready_);
  return ready_;
}

void Readiness::Update() {
  absl::MutexLock lock(&mu_);
  if (started_ && !stopped_) EvaluateLocked();
}

void Readiness::Stop() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
}

// Under mu_, so that two evaluations cannot apply their answers out of
// order; each reads the repository as it is now.
void Readiness::EvaluateLocked() {
  const bool ready = !strict_ || repository_->AllModelsReady();
  if (ready != ready_) {
    if (ready) {
      spdlog::info("ready{}", strict_ ? ": every model has a ready version" : "");
    } else {
      spdlog::warn(
          "not ready (--strict-readiness): a model has no ready version; `mlpserve-client "
          "models list` says which and why");
    }
  }
  ready_ = ready;
  service_->SetReady(ready);
  grpc_->SetServing(ready);
}

}  // namespace mlpserve

#include "server/rpc/health_service.h"

#include <atomic>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlpserve {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Watch stream. Writes one status at a time; a status that arrives
// while a write is in flight replaces any other waiting one, so the client
// always ends up with the latest. Finish is called exactly once: after the
// last status when the service shuts down, or on cancellation.
class HealthService::WatchReactor final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  WatchReactor(HealthService* service, std::string name)
      : service_(service), name_(std::move(name)) {}

  // The service name the stream watches.
  const std::string& name() const { return name_; }

  // Sends `status` unless it is the last one sent; with `finish`, then ends
  // the stream with UNAVAILABLE. Thread-safe.
  void Send(HealthCheckResponse::ServingStatus status, bool finish) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    pending_ = status;
    finish_after_ = finish_after_ || finish;
    if (!writing_) AdvanceLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (finished_) return;
    if (!ok) {  // the stream is broken (the client went away)
      FinishLocked(grpc::Status::CANCELLED);
      return;
    }
    AdvanceLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (!finished_) FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    service_->Forget(this);
    Unref();
  }

  // Keeps the reactor alive past OnDone while the service sends on it
  // outside its lock. The initial reference is gRPC's, dropped in OnDone.
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  // Starts the next write, or finishes once nothing is left to write.
  void AdvanceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (pending_.has_value() && *pending_ != last_sent_) {
      response_.set_status(*pending_);
      last_sent_ = *pending_;
      pending_.reset();
      writing_ = true;
      StartWrite(&response_);
      return;
    }
    pending_.reset();
    if (finish_after_) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is shutting down"));
    }
  }

  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    finished_ = true;
    Finish(status);
  }

  HealthService* const service_;
  const std::string name_;
  std::atomic<int> refs_{1};
  absl::Mutex mu_;
  HealthCheckResponse response_ ABSL_GUARDED_BY(mu_);  // the write in flight
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_after_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<HealthCheckResponse::ServingStatus> pending_ ABSL_GUARDED_BY(mu_);
  HealthCheckResponse::ServingStatus last_sent_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
};

HealthCheckResponse::ServingStatus HealthService::StatusLocked(const std::string& service) const {
  if (service.empty()) {
    return serving_ ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
  }
  if (service == kLiveness) {
    return shut_down_ ? HealthCheckResponse::NOT_SERVING : HealthCheckResponse::SERVING;
  }
  return HealthCheckResponse::SERVICE_UNKNOWN;
}

void HealthService::SetServing(bool serving) {
  absl::MutexLock update(&update_mu_);
  std::vector<std::pair<WatchReactor*, HealthCheckResponse::ServingStatus>> sends;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    serving_ = serving;
    sends = PinWatchesLocked();
  }
  SendAndUnpin(sends, /*finish=*/false);
}

void HealthService::Shutdown() {
  absl::MutexLock update(&update_mu_);
  std::vector<std::pair<WatchReactor*, HealthCheckResponse::ServingStatus>> sends;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    serving_ = false;
    sends = PinWatchesLocked();
  }
  SendAndUnpin(sends, /*finish=*/true);
}

std::vector<std::pair<HealthService::WatchReactor*, HealthCheckResponse::ServingStatus>>
HealthService::PinWatchesLocked() {
  std::vector<std::pair<WatchReactor*, HealthCheckResponse::ServingStatus>> sends;
  for (WatchReactor* watch : watches_) {
    watch->Ref();
    sends.emplace_back(watch, StatusLocked(watch->name()));
  }
  return sends;
}

// Outside mu_: a write started from a thread that is not gRPC's may run
// gRPC callbacks before it returns, among them new Check and Watch calls,
// which take mu_.
void HealthService::SendAndUnpin(
    const std::vector<std::pair<WatchReactor*, HealthCheckResponse::ServingStatus>>& sends,
    bool finish) {
  for (const auto& [watch, status] : sends) {
    watch->Send(status, finish);
    watch->Unref();
  }
}

void HealthService::Forget(WatchReactor* reactor) {
  absl::MutexLock lock(&mu_);
  watches_.erase(reactor);
}

grpc::ServerUnaryReactor* HealthService::Check(grpc::CallbackServerContext* context,
                                               const HealthCheckRequest* request,
                                               HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  HealthCheckResponse::ServingStatus status;
  {
    absl::MutexLock lock(&mu_);
    status = StatusLocked(request->service());
  }
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "service name unknown"));
    return reactor;
  }
  response->set_status(status);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(
    grpc::CallbackServerContext*, const HealthCheckRequest* request) {
  auto* reactor = new WatchReactor(this, request->service());
  absl::MutexLock lock(&mu_);
  watches_.insert(reactor);
  reactor->Send(StatusLocked(reactor->name()), shut_down_);
  return reactor;
}

}  // namespace mlpserve

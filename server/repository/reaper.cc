#include "server/repository/reaper.h"

#include <pthread.h>

#include "absl/time/time.h"
#include "server/repository/servable_model.h"
#include "spdlog/spdlog.h"

namespace mlpserve {

std::shared_ptr<Reaper> Reaper::Create() { return std::shared_ptr<Reaper>(new Reaper()); }

Reaper::Reaper() : thread_([this] { Run(); }) {}

Reaper::~Reaper() { Stop(); }

std::shared_ptr<const ServableModel> Reaper::Adopt(std::shared_ptr<ServableModel> model) {
  {
    absl::MutexLock lock(&mu_);
    ++outstanding_;
  }
  ServableModel* raw = model.get();
  return std::shared_ptr<const ServableModel>(
      raw, [reaper = shared_from_this(), owned = std::move(model)](const ServableModel*) mutable {
        reaper->Retire(std::move(owned));
      });
}

void Reaper::Retire(std::shared_ptr<ServableModel> model) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      retired_.push_back(std::move(model));
      cv_.Signal();
      return;
    }
  }
  // Adopted after Stop (a misuse): nothing would take it, so destroy it here.
  model.reset();
  absl::MutexLock lock(&mu_);
  --outstanding_;
}

void Reaper::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stop_called_) return;
    stop_called_ = true;
    auto all_destroyed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return outstanding_ == 0; };
    while (!mu_.AwaitWithTimeout(absl::Condition(&all_destroyed), absl::Seconds(10))) {
      spdlog::warn(
          "shutdown: waiting for {} model version(s) still held by requests in progress; "
          "they are destroyed once answered",
          outstanding_);
    }
    stopping_ = true;
    cv_.Signal();
  }
  thread_.join();
}

void Reaper::Run() {
  pthread_setname_np(pthread_self(), "model-reaper");
  while (true) {
    std::shared_ptr<ServableModel> model;
    {
      absl::MutexLock lock(&mu_);
      while (retired_.empty() && !stopping_) cv_.Wait(&mu_);
      if (retired_.empty()) return;
      model = std::move(retired_.front());
      retired_.pop_front();
    }
    model.reset();  // drains and joins the model's executors
    absl::MutexLock lock(&mu_);
    --outstanding_;
  }
}

}  // namespace mlpserve

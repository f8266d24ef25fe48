#include "server/repository/reaper.h"

#include <pthread.h>

#include "server/repository/servable_model.h"

namespace mlpserve {

Reaper::Reaper() : thread_([this] { Run(); }) {}

Reaper::~Reaper() { Stop(); }

void Reaper::Retire(std::shared_ptr<ServableModel> model) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopped_) {
      retired_.push_back(std::move(model));
      cv_.Signal();
      return;
    }
  }
  model.reset();  // after Stop: inline, outside the lock
}

void Reaper::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
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
      if (retired_.empty()) {
        stopped_ = true;
        return;
      }
      model = std::move(retired_.front());
      retired_.pop_front();
    }
    model.reset();  // drains and joins the model's executors
  }
}

}  // namespace mlpserve

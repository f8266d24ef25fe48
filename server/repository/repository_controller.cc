#include "server/repository/repository_controller.h"

#include <pthread.h>

#include "absl/strings/str_cat.h"

namespace mlpserve {

RepositoryController::RepositoryController(ModelRepository* repository,
                                           absl::Duration poll_interval)
    : repository_(repository), poll_interval_(poll_interval), thread_([this] { Run(); }) {}

RepositoryController::~RepositoryController() {
  Stop();
  thread_.join();
}

void RepositoryController::Stop() {
  std::deque<Task> abandoned;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    abandoned.swap(tasks_);
    cv_.Signal();
  }
  for (Task& task : abandoned) task.done(absl::UnavailableError("the server is shutting down"));
}

void RepositoryController::Submit(absl::AnyInvocable<absl::Status()> task,
                                  absl::AnyInvocable<void(absl::Status)> done) {
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      refused = absl::UnavailableError("the server is shutting down");
    } else if (tasks_.size() >= kMaxQueuedTasks) {
      refused = absl::ResourceExhaustedError(absl::StrCat(
          "model control is busy: ", tasks_.size(), " loads and unloads are waiting; retry later"));
    } else {
      tasks_.push_back({std::move(task), std::move(done)});
      cv_.Signal();
      return;
    }
  }
  done(std::move(refused));
}

void RepositoryController::Run() {
  pthread_setname_np(pthread_self(), "repo-control");
  absl::Time next_poll = absl::Now() + poll_interval_;
  while (true) {
    Task task;
    bool poll = false;
    {
      absl::MutexLock lock(&mu_);
      while (tasks_.empty() && !stopping_) {
        if (poll_interval_ <= absl::ZeroDuration()) {
          cv_.Wait(&mu_);
        } else if (cv_.WaitWithDeadline(&mu_, next_poll) || absl::Now() >= next_poll) {
          poll = true;  // timed out (returns true) or woken at the deadline
          break;
        }
      }
      if (stopping_) return;
      if (!poll) {
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
    }
    if (poll) {
      repository_->Poll();
      next_poll = absl::Now() + poll_interval_;
      continue;
    }
    absl::Status status = task.run();
    task.done(std::move(status));
  }
}

}  // namespace mlpserve

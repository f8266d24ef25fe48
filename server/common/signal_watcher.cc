#include "server/common/signal_watcher.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "spdlog/spdlog.h"

namespace mlpserve {

struct SignalWatcher::State {
  sigset_t signals;
  absl::Notification termination;
  std::atomic<int> signal{0};  // the first termination signal
  absl::Mutex mu;
  std::function<void()> on_termination ABSL_GUARDED_BY(mu);

  void Run() {
    for (;;) {
      int taken = 0;
      if (sigwait(&signals, &taken) != 0) continue;
      if (taken == SIGHUP) {
        spdlog::info("received {}: ignored (mlpserve has no configuration to reload)",
                     strsignal(taken));
        continue;
      }
      if (termination.HasBeenNotified()) {
        spdlog::warn("received {} again: exiting now, without waiting for the drain",
                     strsignal(taken));
        spdlog::shutdown();
        std::_Exit(128 + taken);
      }
      signal = taken;
      {
        // Before Wait() returns: what the callback touches is still alive.
        absl::MutexLock lock(&mu);
        if (on_termination) on_termination();
      }
      termination.Notify();
    }
  }
};

SignalWatcher::SignalWatcher() : state_(std::make_shared<State>()) {
  sigemptyset(&state_->signals);
  sigaddset(&state_->signals, SIGINT);
  sigaddset(&state_->signals, SIGTERM);
  sigaddset(&state_->signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &state_->signals, nullptr);
}

SignalWatcher::~SignalWatcher() {
  absl::MutexLock lock(&state_->mu);
  state_->on_termination = nullptr;
}

void SignalWatcher::Start(std::function<void()> on_termination) {
  {
    absl::MutexLock lock(&state_->mu);
    state_->on_termination = std::move(on_termination);
  }
  std::thread([state = state_] { state->Run(); }).detach();
}

bool SignalWatcher::terminated() const { return state_->termination.HasBeenNotified(); }

int SignalWatcher::Wait() {
  state_->termination.WaitForNotification();
  return state_->signal;
}

}  // namespace mlpserve

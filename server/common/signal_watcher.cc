#include "server/common/signal_watcher.h"

#include <pthread.h>
#include <string.h>

#include <cstdlib>
#include <thread>
#include <utility>

#include "spdlog/spdlog.h"

namespace mlpserve {

SignalWatcher::SignalWatcher() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
}

void SignalWatcher::Start(std::function<void()> on_termination) {
  std::thread([this, on_termination = std::move(on_termination)] { Run(on_termination); }).detach();
}

int SignalWatcher::Wait() {
  termination_.WaitForNotification();
  return signal_;
}

void SignalWatcher::Run(std::function<void()> on_termination) {
  for (;;) {
    int signal = 0;
    if (sigwait(&signals_, &signal) != 0) continue;
    if (signal == SIGHUP) {
      spdlog::info("received {}: ignored (mlpserve has no configuration to reload)",
                   strsignal(signal));
      continue;
    }
    if (termination_.HasBeenNotified()) {
      spdlog::warn("received {} again: exiting now, without waiting for the drain",
                   strsignal(signal));
      spdlog::shutdown();
      std::_Exit(128 + signal);
    }
    signal_ = signal;
    // Before Wait() returns: what the callback touches is still alive.
    if (on_termination) on_termination();
    termination_.Notify();
  }
}

}  // namespace mlpserve

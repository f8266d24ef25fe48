// The process's signals, taken on a thread of their own: SIGINT, SIGTERM and
// SIGHUP are blocked in the thread that creates the watcher (do it before
// starting any other thread, which then inherits the mask).
//
//   * the first SIGINT or SIGTERM is the request to shut down: Wait()
//     returns it, after the `on_termination` callback ran on the watcher
//     thread (for work that must stop even before Wait() is called, such as
//     loading models at start-up);
//   * a second one ends the process at once (exit status 128 + signal): an
//     operator who presses Ctrl-C twice does not want to wait out the drain;
//   * SIGHUP is logged and ignored: mlpserve has no configuration to reload
//     (the model control modes change models), and dying on it (its default
//     action) dropped every call in flight without a drain.
#ifndef MLPSERVE_SERVER_COMMON_SIGNAL_WATCHER_H_
#define MLPSERVE_SERVER_COMMON_SIGNAL_WATCHER_H_

#include <functional>
#include <memory>

namespace mlpserve {

class SignalWatcher {
 public:
  SignalWatcher();
  // The callback is not called after this returns. The watcher thread is
  // detached and keeps what it uses: it stays in sigwait until the process
  // exits (a second termination signal still ends the process).
  ~SignalWatcher();

  // Starts the watcher thread; call once. `on_termination` must not block.
  void Start(std::function<void()> on_termination);

  bool terminated() const;
  // Blocks until the first SIGINT or SIGTERM; returns its number.
  int Wait();

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the watcher thread
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_COMMON_SIGNAL_WATCHER_H_

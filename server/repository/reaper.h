// Destroys retired model versions on a thread of its own.
//
// Destroying a ServableModel drains its queue and joins its executors, which
// must happen neither on a gRPC thread (callbacks never block) nor on one of
// the model's own executors. Adopt wraps a freshly loaded model so that
// whoever drops the last reference, on whatever thread, hands it to the
// reaper's thread instead, and returns at once.
//
// The last reference may well drop on the model's own executor: a pending
// call holds its model until answered, and executors answer. So the thread
// keeps running until every adopted model is destroyed: Stop waits for that
// (the owner drains the models first, so their queues empty) and only then
// joins the thread.
//
// Thread-safety: every method is thread-safe. Owned through a shared_ptr
// (Create): each adopted model's deleter holds one, so the reaper outlives
// the last model it may be handed.
#ifndef MLPSERVE_SERVER_REPOSITORY_REAPER_H_
#define MLPSERVE_SERVER_REPOSITORY_REAPER_H_

#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace mlpserve {

class ServableModel;

class Reaper : public std::enable_shared_from_this<Reaper> {
 public:
  static std::shared_ptr<Reaper> Create();
  ~Reaper();  // Stop()

  // `model`, shared: the last holder's release hands it to this reaper.
  // Adopting once Stop has begun is a misuse: that model's last holder
  // destroys it inline.
  std::shared_ptr<const ServableModel> Adopt(std::shared_ptr<ServableModel> model);

  // Returns once every adopted model has been destroyed and the thread has
  // exited; logs a warning every 10 s while models are still held. Later
  // calls return at once.
  void Stop();

 private:
  Reaper();
  void Retire(std::shared_ptr<ServableModel> model);
  void Run();

  absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<std::shared_ptr<ServableModel>> retired_ ABSL_GUARDED_BY(mu_);
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;  // adopted, not destroyed yet
  bool stop_called_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // all destroyed: the thread exits
  std::thread thread_;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_REPOSITORY_REAPER_H_

// Destroys retired model versions on a thread of its own.
//
// Destroying a ServableModel drains its queue and joins its executors, which
// must happen neither on a gRPC thread (callbacks never block) nor on one of
// the model's own executors. Whoever drops the last reference hands the model
// to Retire instead (see ModelRepository's shared_ptr deleter), which returns
// at once.
//
// Thread-safety: Retire is thread-safe. After Stop (which drains what was
// retired and joins the thread) Retire destroys the model inline: by then the
// process is shutting down and no gRPC thread is serving.
#ifndef MLPSERVE_SERVER_REPOSITORY_REAPER_H_
#define MLPSERVE_SERVER_REPOSITORY_REAPER_H_

#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace mlpserve {

class ServableModel;

class Reaper {
 public:
  Reaper();
  ~Reaper();  // Stop()

  void Retire(std::shared_ptr<ServableModel> model);
  void Stop();

 private:
  void Run();

  absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<std::shared_ptr<ServableModel>> retired_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_REPOSITORY_REAPER_H_

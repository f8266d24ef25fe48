// The thread that changes what the repository serves: model loads and
// unloads asked for over gRPC, and in poll mode a look at the repository
// folder every poll interval. Loads can take long (ONNX import, oneDNN
// primitives), so gRPC callbacks hand them here and are answered when the
// work is done.
//
// Thread-safety: Submit and Stop are thread-safe. At most kMaxQueuedTasks
// wait behind the one running; Submit answers RESOURCE_EXHAUSTED beyond that.
// The destructor stops (see Stop) and joins.
#ifndef MLPSERVE_SERVER_REPOSITORY_REPOSITORY_CONTROLLER_H_
#define MLPSERVE_SERVER_REPOSITORY_REPOSITORY_CONTROLLER_H_

#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/repository/model_repository.h"

namespace mlpserve {

class RepositoryController {
 public:
  // `repository` is not owned and must outlive the controller. A positive
  // `poll_interval` calls repository->Poll() that often.
  RepositoryController(ModelRepository* repository, absl::Duration poll_interval);
  ~RepositoryController();

  static constexpr size_t kMaxQueuedTasks = 64;

  // Runs `task` on the controller thread; `done` gets its status there.
  // `done` gets UNAVAILABLE instead if the controller stops first, and
  // RESOURCE_EXHAUSTED at once when kMaxQueuedTasks are already waiting.
  // `done` must not block.
  void Submit(absl::AnyInvocable<absl::Status()> task, absl::AnyInvocable<void(absl::Status)> done);

  // Refuses new tasks and answers the waiting ones UNAVAILABLE now; the task
  // in progress runs to its end, and no poll starts after it. Returns at
  // once: graceful shutdown calls it so that the model control calls gRPC
  // waits for are at most the one running.
  void Stop();

 private:
  struct Task {
    absl::AnyInvocable<absl::Status()> run;
    absl::AnyInvocable<void(absl::Status)> done;
  };
  void Run();

  ModelRepository* const repository_;
  const absl::Duration poll_interval_;
  absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<Task> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_REPOSITORY_REPOSITORY_CONTROLLER_H_

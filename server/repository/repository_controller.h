// The thread that changes what the repository serves: model loads and
// unloads asked for over gRPC, and in poll mode a look at the repository
// folder every poll interval. Loads can take long (ONNX import, oneDNN
// primitives), so gRPC callbacks hand them here and are answered when the
// work is done.
//
// Thread-safety: Submit is thread-safe. The destructor finishes the task in
// progress, runs no further ones (their callbacks get UNAVAILABLE) and joins.
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

  // Runs `task` on the controller thread; `done` gets its status there (or
  // UNAVAILABLE if the controller stops first). `done` must not block.
  void Submit(absl::AnyInvocable<absl::Status()> task, absl::AnyInvocable<void(absl::Status)> done);

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

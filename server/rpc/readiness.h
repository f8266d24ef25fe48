// What ServerReady and the health service's "" answer, kept in step with the
// model repository.
//
// Not ready until Start (the start-up load is over). Then ready; with
// `strict` (--strict-readiness, as Triton's) only while every model the
// repository was asked to serve has a ready version
// (ModelRepository::AllModelsReady), re-evaluated on every Update (wire it to
// the repository's on_change: a load, reload or unload that ended). Stop
// (shutdown begins) freezes it: GracefulShutdown then takes readiness down
// for good. Transitions after Start are logged. The health service's "liveness" is not
// readiness's business (see health_service.h).
//
// Thread-safety: every method is thread-safe. Update holds its lock while it
// sets the health service, whose Watch writes may run gRPC callbacks inline:
// never call Update (or a repository load or unload, which calls it) from a
// gRPC callback synchronously; the control RPCs hand loads to the
// RepositoryController's thread. Not owned: the repository, service and
// server, which must outlive Stop.
#ifndef MLPSERVE_SERVER_RPC_READINESS_H_
#define MLPSERVE_SERVER_RPC_READINESS_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/repository/model_repository.h"
#include "server/rpc/grpc_server.h"
#include "server/rpc/inference_service.h"

namespace mlpserve {

class Readiness {
 public:
  explicit Readiness(bool strict) : strict_(strict) {}

  // The parts it answers for and drives; called once, before Start.
  void Attach(const ModelRepository* repository, InferenceService* service, GrpcServer* grpc)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The start-up load is over: evaluate from now on. Returns whether the
  // server is ready (false after Stop); the caller logs it.
  bool Start() ABSL_LOCKS_EXCLUDED(mu_);
  // The repository changed: evaluate again (a no-op before Start or after Stop).
  void Update() ABSL_LOCKS_EXCLUDED(mu_);
  // Shutdown begins: no evaluation from now on.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void EvaluateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const bool strict_;
  absl::Mutex mu_;
  const ModelRepository* repository_ ABSL_GUARDED_BY(mu_) = nullptr;
  InferenceService* service_ ABSL_GUARDED_BY(mu_) = nullptr;
  GrpcServer* grpc_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_RPC_READINESS_H_

// Graceful shutdown of the serving stack (SIGTERM / SIGINT in main.cc): no
// request the server has accepted is lost.
//
// GracefulShutdown(service, repository, controller, grpc, grace) runs, in
// this order:
//   1. service.SetReady(false): ServerReady answers false from here on, so
//      readiness probes take the instance out of rotation. Other RPCs are
//      still served.
//   2. repository.Drain(): every model version, loaded now or later, starts
//      its batches without waiting for the queue delay, so the requests
//      already queued (and any still accepted until step 4) complete at the
//      speed of computation, not after max_queue_delay.
//   3. controller->Stop() (when there is a controller): model loads and
//      unloads still waiting are answered UNAVAILABLE now, so the calls gRPC
//      waits for in step 4 include at most the one load running.
//   4. grpc.Shutdown(grace): the health service answers NOT_SERVING and
//      ends its open Watch streams (they would never end by themselves and
//      are not waited for), the server stops accepting calls, the calls in
//      flight may run until `grace` has passed, and whatever is still
//      running then is cancelled (its client sees UNAVAILABLE "Cancelling
//      all calls"). A new call is refused without reaching a handler:
//      UNAVAILABLE once the client has seen the server go away;
//      a call that reaches the server while its shutdown is starting is
//      cancelled by gRPC instead (CANCELLED, seen in about 3 of 4 runs of
//      tests/rpc/graceful_shutdown_test's prober).
//
// When it returns, callers may rely on: no call is accepted any more, no
// RPC handler is running or will run, and every call accepted before the
// grace period ended has been answered (with its result, if it finished in
// time). The repository still holds its models and their schedulers keep
// running; the caller destroys what it owns afterwards (the controller, then
// the repository) as before.
//
// Thread-safety: call once, from the thread that owns the server, never
// from a gRPC callback or a scheduler's executor (it blocks until every call
// has finished). The objects passed must outlive the call.
#ifndef MLPSERVE_SERVER_RPC_GRACEFUL_SHUTDOWN_H_
#define MLPSERVE_SERVER_RPC_GRACEFUL_SHUTDOWN_H_

#include "absl/time/time.h"
#include "server/repository/model_repository.h"
#include "server/repository/repository_controller.h"
#include "server/rpc/grpc_server.h"
#include "server/rpc/inference_service.h"

namespace mlpserve {

// Returns true when every call finished within `grace`, false when the grace
// period ran out and the calls still running were cancelled.
bool GracefulShutdown(InferenceService& service, ModelRepository& repository,
                      RepositoryController* controller, GrpcServer& grpc, absl::Duration grace);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_RPC_GRACEFUL_SHUTDOWN_H_

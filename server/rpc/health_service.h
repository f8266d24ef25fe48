// grpc.health.v1.Health (Check and Watch) on gRPC's callback API. Two
// service names are known:
//  - "" (the server as a whole): its readiness, as SetServing says
//    (NOT_SERVING until then): what load balancers and readiness probes ask.
//  - "liveness": SERVING from the start until Shutdown, whatever the models
//    do: what a liveness probe asks, so that a model that cannot load (which
//    a restart would not mend) does not get the process killed.
// Any other name is unknown (Check: NOT_FOUND; Watch: SERVICE_UNKNOWN, as
// the protocol asks).
//
// Why not gRPC's built-in service: in gRPC 1.51 its Shutdown() sends
// NOT_SERVING on an open Watch stream but never ends it, so every open Watch
// (a client-side health check, a load balancer's probe) is a call in flight
// that holds grpc::Server::Shutdown until its deadline, and then is
// cancelled. Here Shutdown() sends NOT_SERVING and then ends every stream
// with UNAVAILABLE "server is shutting down", so a shutdown waits only for
// real calls.
//
// Ownership: register it with the grpc::Server before it starts; it must
// outlive that server (every Watch reactor is done once the server has shut
// down). Each Watch reactor frees itself in OnDone.
//
// Thread-safety: SetServing and Shutdown are thread-safe; the handlers run
// concurrently on gRPC's threads.
#ifndef MLPSERVE_SERVER_RPC_HEALTH_SERVICE_H_
#define MLPSERVE_SERVER_RPC_HEALTH_SERVICE_H_

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "proto/health.grpc.pb.h"

namespace mlpserve {

class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  HealthService() = default;
  HealthService(const HealthService&) = delete;
  HealthService& operator=(const HealthService&) = delete;

  // The name a liveness probe asks for.
  static constexpr char kLiveness[] = "liveness";

  // The server's status (""): SERVING or NOT_SERVING (the initial one). Sent
  // on every open Watch of "" whose last status differs. Ignored after
  // Shutdown.
  void SetServing(bool serving);

  // From now on the server and "liveness" are NOT_SERVING for good: every
  // open Watch gets NOT_SERVING (if it had not) and then ends with
  // UNAVAILABLE; a Watch that starts later does the same at once.
  // Idempotent.
  void Shutdown();

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::health::v1::HealthCheckResponse* response) override;
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request) override;

 private:
  class WatchReactor;
  // Called by a reactor's OnDone.
  void Forget(WatchReactor* reactor) ABSL_LOCKS_EXCLUDED(mu_);
  // The status of service name `service`; SERVICE_UNKNOWN for a name that
  // is not known.
  grpc::health::v1::HealthCheckResponse::ServingStatus StatusLocked(
      const std::string& service) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The open Watch streams, each pinned alive, with the status to send;
  // SendAndUnpin sends it outside mu_ (a stream skips a status it last sent)
  // and releases the pin.
  std::vector<std::pair<WatchReactor*, grpc::health::v1::HealthCheckResponse::ServingStatus>>
  PinWatchesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void SendAndUnpin(
      const std::vector<
          std::pair<WatchReactor*, grpc::health::v1::HealthCheckResponse::ServingStatus>>& sends,
      bool finish);

  // Serializes SetServing and Shutdown, so that their sends reach each
  // stream in the order of the calls; taken before mu_, never by a handler.
  absl::Mutex update_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::set<WatchReactor*> watches_ ABSL_GUARDED_BY(mu_);  // open Watch streams
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_RPC_HEALTH_SERVICE_H_

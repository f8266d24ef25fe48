// The gRPC server: the inference service, the standard health service
// (grpc.health.v1.Health, mlpserve's own: see health_service.h) and server
// reflection, on one listening address.
//
// Thread-safety: SetServing and port are thread-safe; Shutdown is called
// once, from the thread that owns the server.
#ifndef MLPSERVE_SERVER_RPC_GRPC_SERVER_H_
#define MLPSERVE_SERVER_RPC_GRPC_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "server/rpc/health_service.h"

namespace mlpserve {

class InferenceService;

class GrpcServer {
 public:
  struct Options {
    // "host:port"; port 0 picks a free port (see port()).
    std::string address = "0.0.0.0:8001";
    // Not owned; must outlive the server.
    InferenceService* service = nullptr;
    // Largest request message accepted; larger ones get RESOURCE_EXHAUSTED.
    int max_receive_message_bytes = 64 << 20;
    // PEM files. With a certificate and key the server speaks TLS only; with
    // a client CA as well it requires and verifies client certificates
    // (mutual TLS). All empty: plaintext.
    std::string tls_cert_file;
    std::string tls_key_file;
    std::string tls_client_ca_file;
    // A connection older than this is sent a GOAWAY (gRPC adds +-10% jitter),
    // so clients reconnect, and through a load balancer spread over the
    // servers that exist now; calls in flight on it may then take
    // `max_connection_age_grace` to finish before it is closed. Infinite:
    // connections live as long as their clients keep them.
    absl::Duration max_connection_age = absl::InfiniteDuration();
    absl::Duration max_connection_age_grace = absl::InfiniteDuration();
  };

  // UNAVAILABLE naming the address when it cannot be bound; NOT_FOUND
  // naming a TLS file that cannot be read; INVALID_ARGUMENT for a
  // certificate without a key (or the reverse) or a client CA without both,
  // or a connection age (or its grace) that is not positive.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const Options& options);
  ~GrpcServer();

  // The bound port.
  int port() const { return port_; }

  // The health service's answer for the server ("", readiness); its
  // "liveness" does not follow it (see health_service.h).
  void SetServing(bool serving);

  // Ends every health Watch stream (NOT_SERVING, then UNAVAILABLE: they
  // never end by themselves, so they are not waited for), stops accepting
  // calls, lets calls in flight finish until `grace` has passed, then
  // cancels the rest. Returns true when every call finished before the
  // grace period ended (nothing was cancelled), false when the period ran
  // out. Idempotent (true once already shut down).
  bool Shutdown(absl::Duration grace);

 private:
  GrpcServer(std::unique_ptr<HealthService> health, std::unique_ptr<grpc::Server> server, int port)
      : health_(std::move(health)), server_(std::move(server)), port_(port) {}
  // Declared before server_: it must outlive the server.
  const std::unique_ptr<HealthService> health_;
  std::unique_ptr<grpc::Server> server_;
  const int port_;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_RPC_GRPC_SERVER_H_

// The metrics HTTP endpoint (civetweb), next to the gRPC port:
//   GET /metrics                 Prometheus text format 0.0.4 of
//                                MetricsRegistry::Collect()
//   GET /v1/activations          {"models": [...]}: models with activation stats
//   GET /v1/activations/<model>  that model's per-layer, per-unit view
//                                (activation_json.h); 404 {"error": ...} when no
//                                live version of <model> has activation stats
//   GET /activations             HTML heatmaps of every model (activation_page.h)
//   GET /-/healthy               200 "OK"
//   HEAD of each of these       the same headers, no body
// Any other path is 404; any other method 405.
//
// Ownership: the registry is not owned and must outlive the server.
// Destroying the server stops it (in-flight requests finish first), in
// milliseconds (civetweb alone takes up to its poll timeout, 1-2 s).
//
// Thread-safety: port() is thread-safe; handlers run on civetweb's threads.
#ifndef MLPSERVE_SERVER_METRICS_HTTP_SERVER_H_
#define MLPSERVE_SERVER_METRICS_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/metrics/metrics_registry.h"

class CivetHandler;
class CivetServer;

namespace mlpserve {

class MetricsHttpServer {
 public:
  // Listens on `address` ("HOST:PORT"; HOST an IPv4 address or "localhost",
  // or "[IPv6]" where civetweb was built with IPv6, which Debian 12's is not;
  // PORT 0 picks a free port). INVALID_ARGUMENT for a malformed address or
  // an IPv6 one civetweb cannot serve, UNAVAILABLE when the port cannot be
  // bound. 16 worker threads; a connection that has not sent its request
  // within 5 s is closed.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Create(const std::string& address,
                                                                   MetricsRegistry* registry);
  ~MetricsHttpServer();

  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // The bound port.
  int port() const { return port_; }

 private:
  MetricsHttpServer() = default;

  // Declared before server_: the handler outlives the server's threads.
  std::unique_ptr<CivetHandler> router_;
  std::unique_ptr<CivetServer> server_;
  int port_ = 0;
  std::string connect_host_;  // where this process reaches the listener
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_METRICS_HTTP_SERVER_H_

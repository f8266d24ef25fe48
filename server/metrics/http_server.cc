#include "server/metrics/http_server.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <sstream>
#include <thread>
#include <utility>

#include "CivetServer.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"
#include "server/common/host_port.h"
#include "server/metrics/activation_json.h"
#include "server/metrics/activation_page.h"

namespace mlpserve {
namespace {

constexpr absl::string_view kTextFormat = "text/plain; version=0.0.4; charset=utf-8";
constexpr absl::string_view kJson = "application/json";
constexpr absl::string_view kHtml = "text/html; charset=utf-8";

void Send(mg_connection* conn, int status, absl::string_view content_type, absl::string_view body) {
  const char* reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Error";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %.*s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            status, reason, static_cast<int>(content_type.size()), content_type.data(),
            body.size());
  mg_write(conn, body.data(), body.size());
}

// A GET handler around a function of the connection.
class GetHandler : public CivetHandler {
 public:
  explicit GetHandler(std::function<void(mg_connection*)> fn) : fn_(std::move(fn)) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    fn_(conn);
    return true;
  }

 private:
  std::function<void(mg_connection*)> fn_;
};

void ServeMetrics(MetricsRegistry* registry, mg_connection* conn) {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, registry->Collect());
  Send(conn, 200, kTextFormat, text.str());
}

void ServeActivations(MetricsRegistry* registry, mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  absl::string_view path = info->local_uri != nullptr ? info->local_uri : "";
  absl::ConsumePrefix(&path, "/v1/activations");
  absl::ConsumePrefix(&path, "/");
  const std::vector<ModelActivations> views = registry->ActivationViews();
  if (path.empty()) {
    Send(conn, 200, kJson, ModelListJson(views));
    return;
  }
  std::string json = ModelActivationsJson(path, views);
  if (json.empty()) {
    Send(conn, 404, kJson,
         ErrorJson(absl::StrCat("no loaded model '", path, "' with activation statistics")));
    return;
  }
  Send(conn, 200, kJson, json);
}

// civetweb's listening_ports syntax: "ip:port", "[ipv6]:port".
std::string ListeningPorts(const HostPort& hp) {
  return absl::StrCat(hp.host == "localhost" ? "127.0.0.1" : hp.host, ":", hp.port);
}

// The address to connect to for reaching a server listening on `host`.
std::string ConnectHost(const std::string& host) {
  if (host == "0.0.0.0" || host == "localhost") return "127.0.0.1";
  if (host == "[::]") return "::1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

// Starts a TCP connection to host:port and closes it; never blocks, errors
// are ignored (the caller only wants the listener's poll() to return; on
// loopback the handshake completes inside connect()).
void TouchListener(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return;
  const int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                        found->ai_protocol);
  if (fd >= 0) {
    (void)connect(fd, found->ai_addr, found->ai_addrlen);
    close(fd);
  }
  freeaddrinfo(found);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Create(
    const std::string& address, MetricsRegistry* registry) {
  if (registry == nullptr)
    return absl::InvalidArgumentError("metrics HTTP server needs a registry");
  absl::StatusOr<HostPort> host_port = ParseHostPort(address, "metrics address");
  if (!host_port.ok()) return host_port.status();
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer());
  const std::vector<std::string> options = {"listening_ports",    ListeningPorts(*host_port),
                                            "num_threads",        "4",
                                            "request_timeout_ms", "10000"};
  try {
    server->server_ = std::make_unique<CivetServer>(options);
  } catch (const CivetException& e) {
    return absl::UnavailableError(
        absl::StrCat("metrics HTTP server cannot listen on ", address, ": ", e.what()));
  }
  std::vector<int> bound = server->server_->getListeningPorts();
  if (bound.empty()) return absl::UnavailableError("metrics HTTP server bound no port");
  server->port_ = bound.front();
  server->connect_host_ = ConnectHost(host_port->host);

  auto add = [&](const std::string& uri, std::function<void(mg_connection*)> fn) {
    server->handlers_.push_back(std::make_unique<GetHandler>(std::move(fn)));
    server->server_->addHandler(uri, server->handlers_.back().get());
  };
  add("/metrics", [registry](mg_connection* c) { ServeMetrics(registry, c); });
  add("/v1/activations", [registry](mg_connection* c) { ServeActivations(registry, c); });
  add("/activations", [registry](mg_connection* c) {
    Send(c, 200, kHtml, ActivationsPage(registry->ActivationViews()));
  });
  add("/-/healthy", [](mg_connection* c) { Send(c, 200, "text/plain; charset=utf-8", "OK\n"); });
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (!server_) return;
  // civetweb's stop sets a flag and waits for its listening thread, which
  // sees the flag only when its poll() on the listening socket returns: by
  // timeout, a second or two later. A connection to the port returns it at
  // once. Until close() is done, one every 20 ms: one made before close()
  // set the flag is an ordinary connection, closed by this side at once.
  std::atomic<bool> stopped{false};
  std::thread stopper([this, &stopped] {
    server_->close();
    stopped = true;
  });
  while (!stopped) {
    TouchListener(connect_host_, port_);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stopper.join();
}

}  // namespace mlpserve

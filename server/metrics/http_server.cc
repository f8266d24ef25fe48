#include "server/metrics/http_server.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "CivetServer.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
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

constexpr int kWorkers = 16;
constexpr int kRequestTimeoutMs = 5000;
constexpr unsigned kCivetwebIpv6 = 8;  // mg_check_feature's bit for USE_IPV6

constexpr absl::string_view kTextFormat = "text/plain; version=0.0.4; charset=utf-8";
constexpr absl::string_view kJson = "application/json";
constexpr absl::string_view kHtml = "text/html; charset=utf-8";
constexpr absl::string_view kText = "text/plain; charset=utf-8";

struct Response {
  int status = 200;
  absl::string_view content_type;
  std::string body;
};

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    default:
      return "Error";
  }
}

// Writes `response`; its body only when `with_body` (not for HEAD).
void Send(mg_connection* conn, const Response& response, bool with_body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %.*s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\n%sConnection: close\r\n\r\n",
            response.status, Reason(response.status),
            static_cast<int>(response.content_type.size()), response.content_type.data(),
            response.body.size(), response.status == 405 ? "Allow: GET, HEAD\r\n" : "");
  if (with_body) mg_write(conn, response.body.data(), response.body.size());
}

Response Metrics(MetricsRegistry* registry) {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, registry->Collect());
  return {200, kTextFormat, text.str()};
}

// `model` empty: the list of models; else that model's view.
Response Activations(MetricsRegistry* registry, absl::string_view model) {
  const std::vector<ModelActivations> views = registry->ActivationViews();
  if (model.empty()) return {200, kJson, ModelListJson(views)};
  std::string json = ModelActivationsJson(model, views);
  if (json.empty()) {
    return {404, kJson,
            ErrorJson(absl::StrCat("no loaded model '", model, "' with activation statistics"))};
  }
  return {200, kJson, std::move(json)};
}

// What GET `path` (decoded, without the query) answers: exact paths only.
Response Route(MetricsRegistry* registry, absl::string_view path) {
  if (path == "/metrics") return Metrics(registry);
  if (path == "/-/healthy") return {200, kText, "OK\n"};
  if (path == "/activations") return {200, kHtml, ActivationsPage(registry->ActivationViews())};
  if (path == "/v1/activations") return Activations(registry, "");
  if (absl::ConsumePrefix(&path, "/v1/activations/") && !path.empty() &&
      !absl::StrContains(path, '/')) {
    return Activations(registry, path);
  }
  return {404, kText, absl::StrCat("no such page: ", absl::CHexEscape(path), "\n")};
}

// Every request: GET and HEAD are routed, other methods answered 405.
class Router : public CivetHandler {
 public:
  explicit Router(MetricsRegistry* registry) : registry_(registry) {}

  bool handleGet(CivetServer*, mg_connection* conn) override { return Serve(conn, true); }
  bool handleHead(CivetServer*, mg_connection* conn) override { return Serve(conn, false); }
  bool handlePost(CivetServer*, mg_connection* conn) override { return NotAllowed(conn); }
  bool handlePut(CivetServer*, mg_connection* conn) override { return NotAllowed(conn); }
  bool handleDelete(CivetServer*, mg_connection* conn) override { return NotAllowed(conn); }
  bool handleOptions(CivetServer*, mg_connection* conn) override { return NotAllowed(conn); }
  bool handlePatch(CivetServer*, mg_connection* conn) override { return NotAllowed(conn); }

 private:
  bool Serve(mg_connection* conn, bool with_body) {
    const mg_request_info* info = mg_get_request_info(conn);
    Send(conn, Route(registry_, info->local_uri != nullptr ? info->local_uri : ""), with_body);
    return true;
  }
  static bool NotAllowed(mg_connection* conn) {
    Send(conn, {405, kText, "only GET and HEAD\n"}, true);
    return true;
  }

  MetricsRegistry* const registry_;
};

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
  if (absl::StartsWith(host_port->host, "[") && mg_check_feature(kCivetwebIpv6) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address ", address,
                     ": the civetweb library this server uses was built without IPv6; give an IPv4 "
                     "address (0.0.0.0 for every interface)"));
  }
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer());
  // Each connection holds a worker until it has sent its request or the
  // timeout passed: enough workers and a short timeout that a few idle or
  // slow connections (a browser's preconnect, a port scan) cannot hold every
  // worker for a whole scrape timeout (Prometheus's default: 10 s).
  const std::vector<std::string> options = {
      "listening_ports",        ListeningPorts(*host_port), "num_threads",
      std::to_string(kWorkers), "request_timeout_ms",       std::to_string(kRequestTimeoutMs)};
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

  server->router_ = std::make_unique<Router>(registry);
  server->server_->addHandler("/", server->router_.get());  // "/" prefixes every path
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

#include "server/rpc/grpc_server.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/health_check_service_server_builder_option.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/rpc/inference_service.h"
#include "server/rpc/unparsable_request.h"

namespace mlpserve {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  if (!in || contents.str().empty()) {
    return absl::NotFoundError(absl::StrCat(flag, ": cannot read '", path, "'"));
  }
  return contents.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const GrpcServer::Options& options) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (options.tls_cert_file.empty()) {
    if (!options.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
    }
    return grpc::InsecureServerCredentials();
  }
  absl::StatusOr<std::string> cert = ReadPem(options.tls_cert_file, "--tls-cert");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(options.tls_key_file, "--tls-key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  if (!options.tls_client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(options.tls_client_ca_file, "--tls-client-ca");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

// A duration as a channel argument in milliseconds, which gRPC takes as an
// int: INT_MAX ms (24.8 days) and beyond mean "never".
int ChannelArgMs(absl::Duration d) {
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), INT_MAX));
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(const Options& options) {
  for (const auto& [value, what] :
       {std::pair{options.max_connection_age, "maximum connection age"},
        std::pair{options.max_connection_age_grace, "maximum connection age's grace"}}) {
    if (value <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the ", what, " must be positive (or infinite), got ", absl::FormatDuration(value)));
    }
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = Credentials(options);
  if (!credentials.ok()) return credentials.status();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // No built-in health service (whatever EnableDefaultHealthCheckService
  // says in this process): ours ends its Watch streams at shutdown.
  builder.SetOption(std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(nullptr));
  auto health = std::make_unique<HealthService>();
  int port = 0;
  builder.AddListeningPort(options.address, *credentials, &port);
  builder.RegisterService(options.service);
  // A request that does not parse gets INVALID_ARGUMENT, not gRPC's bare
  // UNIMPLEMENTED; the raw methods (ModelInfer, ServerLive) answer that
  // themselves.
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(
      std::make_unique<UnparsableRequestInterceptorFactory>(std::set<std::string, std::less<>>{
          InferenceService::kRawMethods.begin(), InferenceService::kRawMethods.end()}));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(health.get());
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  // gRPC sets SO_REUSEPORT by default: a second server on a port in use would
  // start and silently share its connections. Refuse to bind instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (options.max_connection_age != absl::InfiniteDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               ChannelArgMs(options.max_connection_age));
  }
  if (options.max_connection_age_grace != absl::InfiniteDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               ChannelArgMs(options.max_connection_age_grace));
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    // gRPC says why only on stderr; with TLS a certificate or key it could
    // not use fails here as well as a port in use.
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for gRPC on '", options.address, "'",
        options.tls_cert_file.empty()
            ? ""
            : absl::StrCat(" (the port may be in use, or --tls-cert '", options.tls_cert_file,
                           "' / --tls-key '", options.tls_key_file,
                           "' are not a PEM certificate and its private key: gRPC's message "
                           "above says which)")));
  }
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(health), std::move(server), port));
}

GrpcServer::~GrpcServer() { Shutdown(absl::ZeroDuration()); }

void GrpcServer::SetServing(bool serving) { health_->SetServing(serving); }

bool GrpcServer::Shutdown(absl::Duration grace) {
  if (server_ == nullptr) return true;
  health_->Shutdown();
  const absl::Time deadline = absl::Now() + grace;
  server_->Shutdown(absl::ToChronoTime(deadline));
  // grpc::Server::Shutdown returns early only once every call has finished.
  const bool in_time = absl::Now() < deadline;
  server_->Wait();
  server_.reset();
  return in_time;
}

}  // namespace mlpserve

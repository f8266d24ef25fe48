#include "client/lib/inference_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "client/lib/status_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/common/host_port.h"

namespace mlpserve::client {

absl::StatusOr<std::string> InferenceClient::TargetFromUrl(const std::string& url) {
  // gRPC's own target URIs go to gRPC's resolvers, the scheme lower-cased
  // (gRPC matches it case-sensitively: "DNS:///h:1" would not resolve).
  for (absl::string_view uri_scheme :
       {"dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:", "vsock:", "xds:"}) {
    if (!absl::StartsWithIgnoreCase(url, uri_scheme)) continue;
    const std::string target = absl::StrCat(uri_scheme, url.substr(uri_scheme.size()));
    // "scheme:address" or "scheme://authority/address": an address is needed.
    absl::string_view address = absl::string_view(target).substr(uri_scheme.size());
    if (absl::ConsumePrefix(&address, "//")) {
      const size_t slash = address.find('/');
      address = slash == absl::string_view::npos ? "" : address.substr(slash + 1);
    }
    if (address.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("server url '", url, "' has no address after '", uri_scheme,
                       "' (e.g. dns:///localhost:8001, unix:///run/mlpserve.sock)"));
    }
    return target;
  }
  if (absl::StartsWithIgnoreCase(url, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server url '", url, "': give HOST:PORT and turn TLS on with --tls-ca, not https://"));
  }
  absl::string_view address = url;
  for (absl::string_view scheme : {"grpc://", "http://"}) {
    if (absl::StartsWithIgnoreCase(address, scheme)) {
      address.remove_prefix(scheme.size());
      break;
    }
  }
  absl::StatusOr<HostPort> host_port = ParseHostPort(address, "--url");
  // An IPv6 address needs brackets: in "::1:8001" the port is ambiguous.
  const bool bare_ipv6 =
      host_port.ok() && absl::StrContains(host_port->host, ':') &&
      !(absl::StartsWith(host_port->host, "[") && absl::EndsWith(host_port->host, "]"));
  if (!host_port.ok() || host_port->port == 0 || bare_ipv6) {
    return absl::InvalidArgumentError(
        absl::StrCat("server url '", url,
                     "' is not HOST:PORT with a port in 1..65535 (e.g. localhost:8001, "
                     "[::1]:8001)"));
  }
  return std::string(address);
}

absl::StatusOr<std::unique_ptr<InferenceClient>> InferenceClient::Create(const Options& options) {
  // The url first: a bad url is reported before the TLS files are read.
  if (absl::StatusOr<std::string> target = TargetFromUrl(options.url); !target.ok()) {
    return target.status();
  }
  absl::StatusOr<ChannelSecurity> security = MakeChannelSecurity(options.tls);
  if (!security.ok()) return security.status();
  return Create(options, *security);
}

absl::StatusOr<std::unique_ptr<InferenceClient>> InferenceClient::Create(
    const Options& options, const ChannelSecurity& security) {
  absl::StatusOr<std::string> target = TargetFromUrl(options.url);
  if (!target.ok()) return target.status();
  if (options.timeout.count() <= 0) {
    return absl::InvalidArgumentError("client: timeout must be positive");
  }
  std::shared_ptr<grpc::Channel> channel = CreateChannel(*target, security);
  return std::unique_ptr<InferenceClient>(new InferenceClient(options, std::move(channel)));
}

InferenceClient::InferenceClient(const Options& options, std::shared_ptr<grpc::Channel> channel)
    : options_(options),
      channel_(std::move(channel)),
      stub_(inference::GRPCInferenceService::NewStub(channel_)),
      health_stub_(grpc::health::v1::Health::NewStub(channel_)) {}

void InferenceClient::SetDeadline(grpc::ClientContext* context) const {
  std::chrono::system_clock::time_point deadline =
      std::chrono::system_clock::now() + options_.timeout;
  if (options_.deadline) deadline = std::min(deadline, *options_.deadline);
  context->set_deadline(deadline);
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
}

absl::StatusOr<inference::RepositoryIndexResponse> InferenceClient::RepositoryIndex(
    bool ready_only) {
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::RepositoryIndexRequest request;
  request.set_ready(ready_only);
  inference::RepositoryIndexResponse response;
  grpc::Status status = stub_->RepositoryIndex(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status, "RepositoryIndex");
  return response;
}

absl::Status InferenceClient::LoadModel(const std::string& model) {
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::RepositoryModelLoadRequest request;
  request.set_model_name(model);
  inference::RepositoryModelLoadResponse response;
  grpc::Status status = stub_->RepositoryModelLoad(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status, absl::StrCat("RepositoryModelLoad(", model, ")"));
  return absl::OkStatus();
}

absl::StatusOr<inference::ModelStatisticsResponse> InferenceClient::ModelStatistics(
    const std::string& model, const std::string& version) {
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::ModelStatisticsRequest request;
  request.set_name(model);
  request.set_version(version);
  inference::ModelStatisticsResponse response;
  grpc::Status status = stub_->ModelStatistics(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status, absl::StrCat("ModelStatistics(", model, ")"));
  return response;
}

absl::Status InferenceClient::UnloadModel(const std::string& model) {
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::RepositoryModelUnloadRequest request;
  request.set_model_name(model);
  inference::RepositoryModelUnloadResponse response;
  grpc::Status status = stub_->RepositoryModelUnload(&context, request, &response);
  if (!status.ok()) {
    return FromGrpcStatus(status, absl::StrCat("RepositoryModelUnload(", model, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> InferenceClient::ServerLive() {
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::ServerLiveResponse response;
  grpc::Status status = stub_->ServerLive(&context, {}, &response);
  if (!status.ok()) return FromGrpcStatus(status, "ServerLive");
  return response.live();
}

absl::StatusOr<bool> InferenceClient::ServerReady() {
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::ServerReadyResponse response;
  grpc::Status status = stub_->ServerReady(&context, {}, &response);
  if (!status.ok()) return FromGrpcStatus(status, "ServerReady");
  return response.ready();
}

absl::StatusOr<bool> InferenceClient::ModelReady(const std::string& model,
                                                 const std::string& version) {
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::ModelReadyRequest request;
  request.set_name(model);
  request.set_version(version);
  inference::ModelReadyResponse response;
  grpc::Status status = stub_->ModelReady(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status, absl::StrCat("ModelReady(", model, ")"));
  return response.ready();
}

absl::StatusOr<std::string> InferenceClient::Health(const std::string& service) {
  grpc::ClientContext context;
  SetDeadline(&context);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = health_stub_->Check(&context, request, &response);
  if (!status.ok()) {
    return FromGrpcStatus(status, absl::StrCat("Health/Check('", service, "')"));
  }
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

absl::StatusOr<inference::ModelMetadataResponse> InferenceClient::ModelMetadata(
    const std::string& model, const std::string& version) {
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::ModelMetadataRequest request;
  request.set_name(model);
  request.set_version(version);
  inference::ModelMetadataResponse response;
  grpc::Status status = stub_->ModelMetadata(&context, request, &response);
  if (!status.ok()) {
    return FromGrpcStatus(status, absl::StrCat("ModelMetadata(model '", model, "')"));
  }
  return response;
}

absl::StatusOr<InferResult> InferenceClient::Infer(const InferSpec& spec, const Tensor& input) {
  absl::StatusOr<inference::ModelInferRequest> request = BuildInferRequest(spec, input);
  if (!request.ok()) return request.status();
  grpc::ClientContext context;
  SetDeadline(&context);
  inference::ModelInferResponse response;
  grpc::Status status = stub_->ModelInfer(&context, *request, &response);
  if (!status.ok()) {
    return FromGrpcStatus(status, absl::StrCat("ModelInfer(model '", spec.model, "')"));
  }
  absl::StatusOr<InferResult> result = ParseInferResponse(response);
  if (!result.ok()) {
    return absl::Status(
        result.status().code(),
        absl::StrCat("ModelInfer(model '", spec.model, "') response: ", result.status().message()));
  }
  return result;
}

}  // namespace mlpserve::client

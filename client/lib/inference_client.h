// InferenceClient: a thin synchronous wrapper over the generated
// GRPCInferenceService and grpc.health.v1.Health stubs.
//
// Every call carries a deadline of Options::timeout (and at most
// Options::deadline) and returns an
// absl::Status whose code is the gRPC status code and whose message names the
// RPC (and model) at fault. All methods are thread-safe: they share one
// channel and keep no per-call state in the object.
#ifndef MLPSERVE_CLIENT_LIB_INFERENCE_CLIENT_H_
#define MLPSERVE_CLIENT_LIB_INFERENCE_CLIENT_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "client/lib/channel_security.h"
#include "client/lib/infer_codec.h"
#include "grpcpp/channel.h"
#include "proto/health.grpc.pb.h"
#include "proto/inference.grpc.pb.h"

namespace mlpserve::client {

class InferenceClient {
 public:
  struct Options {
    // Where the server is; see TargetFromUrl.
    std::string url = "localhost:8001";
    // Plaintext unless set (channel_security.h).
    TlsFiles tls;
    // Deadline of every call, measured from its start.
    std::chrono::milliseconds timeout{10000};
    // When set, no call runs past it either: a call's deadline is the
    // earlier of its start + timeout and this (a call made after it fails
    // with DEADLINE_EXCEEDED at once). Bounds a sequence of calls.
    std::optional<std::chrono::system_clock::time_point> deadline;
    // Sent as `authorization: Bearer <token>` on every call when non-empty.
    std::string token;
  };

  // Creates the channel (connection is lazy: an unreachable server shows up
  // as UNAVAILABLE on the first call). Errors on a url TargetFromUrl refuses,
  // a timeout <= 0, and unreadable or mismatched TLS files
  // (MakeChannelSecurity).
  static absl::StatusOr<std::unique_ptr<InferenceClient>> Create(const Options& options);
  // The same with `security` made already (MakeChannelSecurity);
  // options.tls is then unused and no file is read.
  static absl::StatusOr<std::unique_ptr<InferenceClient>> Create(const Options& options,
                                                                 const ChannelSecurity& security);

  absl::StatusOr<bool> ServerLive();
  absl::StatusOr<bool> ServerReady();
  absl::StatusOr<bool> ModelReady(const std::string& model, const std::string& version = "");

  // grpc.health.v1.Health/Check for `service` ("" = the whole server): the
  // ServingStatus name, e.g. "SERVING" or "NOT_SERVING".
  absl::StatusOr<std::string> Health(const std::string& service = "");

  absl::StatusOr<inference::ModelMetadataResponse> ModelMetadata(const std::string& model,
                                                                 const std::string& version = "");

  // One ModelInfer call with `input` (see BuildInferRequest), decoded by
  // ParseInferResponse.
  absl::StatusOr<InferResult> Infer(const InferSpec& spec, const Tensor& input);

  // Model repository extension.
  absl::StatusOr<inference::RepositoryIndexResponse> RepositoryIndex(bool ready_only = false);
  absl::Status LoadModel(const std::string& model);
  absl::Status UnloadModel(const std::string& model);
  // Statistics extension; empty model: every ready model; empty version:
  // every ready version of `model`.
  absl::StatusOr<inference::ModelStatisticsResponse> ModelStatistics(
      const std::string& model, const std::string& version = "");

  // The raw stub and channel, for callers that drive async calls (PerfRunner).
  inference::GRPCInferenceService::Stub* stub() { return stub_.get(); }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const Options& options() const { return options_; }

  // The gRPC target of a --url: HOST:PORT with a port in 1..65535 and IPv6
  // hosts in brackets, after an optional "grpc://" or "http://" (any case)
  // ("localhost:8001", "[::1]:8001"), or a gRPC target URI with its scheme
  // lower-cased and the rest as is ("dns:///svc:8001", "unix:///run/s.sock",
  // "ipv4:", "ipv6:", "unix-abstract:", "vsock:", "xds:"; an address after
  // the scheme is required). INVALID_ARGUMENT naming the url otherwise: gRPC
  // would take a missing port as 443 and a port beyond 65535 modulo 65536,
  // and connect somewhere else than meant.
  static absl::StatusOr<std::string> TargetFromUrl(const std::string& url);

 private:
  InferenceClient(const Options& options, std::shared_ptr<grpc::Channel> channel);

  void SetDeadline(grpc::ClientContext* context) const;

  Options options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_stub_;
};

}  // namespace mlpserve::client

#endif  // MLPSERVE_CLIENT_LIB_INFERENCE_CLIENT_H_

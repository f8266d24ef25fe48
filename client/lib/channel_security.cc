#include "client/lib/channel_security.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/create_channel.h"

namespace mlpserve::client {
namespace {

// The whole of `path` (flag names it for messages); empty path: "". The
// file must hold `marker`, the PEM armour of what the flag takes: gRPC
// itself only fails at connect time, as "empty address list".
absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path,
                                    absl::string_view marker, absl::string_view what) {
  if (path.empty()) return std::string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(flag, ": cannot read '", path, "'"));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (contents.str().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": '", path, "' is empty"));
  }
  if (!absl::StrContains(contents.str(), marker)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": '", path, "' is not ", what, " (no '", marker, "' in it)"));
  }
  return contents.str();
}

constexpr absl::string_view kCertificateMarker = "-----BEGIN CERTIFICATE-----";
constexpr absl::string_view kKeyMarker = "PRIVATE KEY-----";

}  // namespace

absl::StatusOr<ChannelSecurity> MakeChannelSecurity(const TlsFiles& tls) {
  ChannelSecurity security;
  if (!tls.enabled()) {
    security.credentials = grpc::InsecureChannelCredentials();
    return security;
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key go together (a client certificate needs its key)");
  }
  grpc::SslCredentialsOptions options;
  absl::StatusOr<std::string> ca =
      ReadPem("--tls-ca", tls.ca_file, kCertificateMarker, "a PEM certificate bundle");
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::string> cert =
      ReadPem("--tls-cert", tls.cert_file, kCertificateMarker, "a PEM certificate");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key =
      ReadPem("--tls-key", tls.key_file, kKeyMarker, "a PEM private key");
  if (!key.ok()) return key.status();
  options.pem_root_certs = *std::move(ca);
  options.pem_cert_chain = *std::move(cert);
  options.pem_private_key = *std::move(key);
  security.credentials = grpc::SslCredentials(options);
  security.server_name = tls.server_name;
  return security;
}

std::shared_ptr<grpc::Channel> CreateChannel(const std::string& target,
                                             const ChannelSecurity& security,
                                             grpc::ChannelArguments args) {
  if (!security.server_name.empty()) args.SetSslTargetNameOverride(security.server_name);
  return grpc::CreateCustomChannel(target, security.credentials, args);
}

}  // namespace mlpserve::client

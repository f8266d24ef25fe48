// How the client's channels reach the server: plaintext, or TLS with the
// server's certificate checked against a CA bundle, optionally presenting a
// client certificate (for a server started with --tls-client-ca).
#ifndef MLPSERVE_CLIENT_LIB_CHANNEL_SECURITY_H_
#define MLPSERVE_CLIENT_LIB_CHANNEL_SECURITY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace mlpserve::client {

// PEM file paths. All empty: plaintext.
struct TlsFiles {
  // CA bundle that signed the server's certificate. Setting any field turns
  // TLS on; an empty ca_file then means the system's default roots.
  std::string ca_file;
  // Client certificate chain and its key (mutual TLS): both or neither.
  std::string cert_file;
  std::string key_file;
  // Name the server's certificate must carry when it differs from the host
  // in the address (e.g. connecting to 127.0.0.1 with a cert for "mlpserve").
  std::string server_name;

  bool enabled() const {
    return !ca_file.empty() || !cert_file.empty() || !key_file.empty() || !server_name.empty();
  }
};

// Credentials and channel arguments for `tls`. Reads the files on every
// call: a caller that opens several channels with one set of files (perf's
// InferenceClient and PerfRunner) calls it once and shares the result, as a
// file may be a pipe that reads only once (`--tls-ca <(...)`).
// Errors: NOT_FOUND for a file that cannot be read, INVALID_ARGUMENT for a
// certificate without its key (or the reverse), an empty file, or one
// without the PEM armour its flag takes ("-----BEGIN CERTIFICATE-----" for
// the CA bundle and the certificate, "PRIVATE KEY-----" for the key). Both
// name the flag and the file. The contents are not parsed further: a
// certificate that does not match its key fails at connect time.
struct ChannelSecurity {
  std::shared_ptr<grpc::ChannelCredentials> credentials;  // never null
  std::string server_name;                                // TlsFiles::server_name
};
absl::StatusOr<ChannelSecurity> MakeChannelSecurity(const TlsFiles& tls);

// A channel to `target` ("host:port") with `security` and `args` (to which the
// server name override is added). Connects lazily.
std::shared_ptr<grpc::Channel> CreateChannel(const std::string& target,
                                             const ChannelSecurity& security,
                                             grpc::ChannelArguments args = {});

}  // namespace mlpserve::client

#endif  // MLPSERVE_CLIENT_LIB_CHANNEL_SECURITY_H_

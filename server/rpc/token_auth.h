// Bearer-token authentication of gRPC calls.
//
// The token comes from a file (read as ReadTokenFile does: whitespace around
// it is ignored) so that it never appears on a command line or in a log. A
// call is authenticated when its metadata carries `authorization: Bearer
// <token>` (the scheme in any case, as RFC 7235 has it: "bearer", "BEARER");
// the token's comparison takes the same time wherever the first difference
// is.
//
// Immutable after FromFile; thread-safe.
#ifndef MLPSERVE_SERVER_RPC_TOKEN_AUTH_H_
#define MLPSERVE_SERVER_RPC_TOKEN_AUTH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"

namespace mlpserve {

class TokenAuth {
 public:
  // ReadTokenFile's errors: NOT_FOUND when missing, UNAVAILABLE when it
  // cannot be read, INVALID_ARGUMENT for a directory or a file holding no
  // usable token.
  static absl::StatusOr<TokenAuth> FromFile(const std::string& path);
  explicit TokenAuth(std::string token) : token_(std::move(token)) {}

  // OK, or UNAUTHENTICATED naming `rpc` (never the token sent).
  absl::Status Check(const grpc::ServerContextBase& context, absl::string_view rpc) const;

 private:
  std::string token_;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_RPC_TOKEN_AUTH_H_

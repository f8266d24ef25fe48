#include "server/rpc/token_auth.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/common/token_file.h"

namespace mlpserve {
namespace {

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

absl::StatusOr<TokenAuth> TokenAuth::FromFile(const std::string& path) {
  absl::StatusOr<std::string> token = ReadTokenFile(path, "--auth-token-file");
  if (!token.ok()) return token.status();
  return TokenAuth(*std::move(token));
}

absl::Status TokenAuth::Check(const grpc::ServerContextBase& context, absl::string_view rpc) const {
  constexpr absl::string_view kBearer = "Bearer ";
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it != metadata.end()) {
    absl::string_view value(it->second.data(), it->second.size());
    // The scheme is case-insensitive and followed by one or more spaces
    // (RFC 7235 section 2.1): "bearer  <token>" too.
    if (absl::StartsWithIgnoreCase(value, kBearer)) {
      value.remove_prefix(kBearer.size());
      while (absl::ConsumePrefix(&value, " ")) {
      }
      if (ConstantTimeEquals(value, token_)) return absl::OkStatus();
    }
  }
  return absl::UnauthenticatedError(
      absl::StrCat(rpc, " needs 'authorization: Bearer <token>' with the server's token"));
}

}  // namespace mlpserve

#include "server/rpc/token_auth.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

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
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("--auth-token-file: cannot read '", path, "'"));
  std::stringstream contents;
  contents << in.rdbuf();
  const std::string token(absl::StripAsciiWhitespace(contents.str()));
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--auth-token-file: '", path, "' is empty"));
  }
  return TokenAuth(token);
}

absl::Status TokenAuth::Check(const grpc::ServerContextBase& context, absl::string_view rpc) const {
  constexpr absl::string_view kBearer = "Bearer ";
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it != metadata.end()) {
    const absl::string_view value(it->second.data(), it->second.size());
    if (value.substr(0, kBearer.size()) == kBearer &&
        ConstantTimeEquals(value.substr(kBearer.size()), token_)) {
      return absl::OkStatus();
    }
  }
  return absl::UnauthenticatedError(
      absl::StrCat(rpc, " needs 'authorization: Bearer <token>' with the server's token"));
}

}  // namespace mlpserve

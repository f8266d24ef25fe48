#include "server/common/token_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace mlpserve {

absl::StatusOr<std::string> ReadTokenFile(const std::string& path, absl::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(flag, ": cannot read '", path, "'"));
  std::stringstream contents;
  contents << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(contents.str()));
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": '", path, "' is empty"));
  }
  // gRPC metadata values that are not "-bin" carry printable ASCII only.
  for (const char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, ": the token in '", path,
          "' holds a character gRPC metadata cannot carry (printable ASCII only, one line)"));
    }
  }
  return token;
}

}  // namespace mlpserve

#include "server/common/token_file.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/read_file.h"

namespace mlpserve {

absl::StatusOr<std::string> ReadTokenFile(const std::string& path, absl::string_view flag) {
  absl::StatusOr<std::string> contents = ReadFileOrPipe(path);
  if (!contents.ok()) {
    return absl::Status(contents.status().code(), absl::StrCat(flag, ": cannot read '", path,
                                                               "': ", contents.status().message()));
  }
  std::string token(absl::StripAsciiWhitespace(*contents));
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

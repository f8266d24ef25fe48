// Bearer tokens kept in files (--auth-token-file on the server, --token-file
// on the client): both sides read them the same way, so a token file written
// with a trailing newline, CRLF line endings or surrounding spaces works on
// both.
#ifndef MLPSERVE_SERVER_COMMON_TOKEN_FILE_H_
#define MLPSERVE_SERVER_COMMON_TOKEN_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mlpserve {

// The whole file (or pipe: `--token-file <(pass show mlpserve)`) with ASCII
// whitespace around it removed. The errors of ReadFileOrPipe (NOT_FOUND when
// missing, INVALID_ARGUMENT for a directory, UNAVAILABLE when unreadable),
// INVALID_ARGUMENT when nothing is left or the token holds a character gRPC metadata cannot carry
// (anything but printable ASCII: a line break or tab inside it, a non-ASCII letter); errors name
// `flag` and `path`, never the token.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path, absl::string_view flag);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_COMMON_TOKEN_FILE_H_

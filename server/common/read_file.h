// Reading a whole file that the operator names (a model, its config, a token).
#ifndef MLPSERVE_SERVER_COMMON_READ_FILE_H_
#define MLPSERVE_SERVER_COMMON_READ_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace mlpserve {

// The bytes of the regular file at `path` (symbolic links followed), at
// most `max_bytes` of them. NOT_FOUND when nothing is there (a symbolic link
// to nothing is not "nothing": INVALID_ARGUMENT naming its target);
// INVALID_ARGUMENT when it is something other than a regular file (a
// directory would otherwise read as empty, a FIFO would block the caller
// until a writer comes) or when its size exceeds `max_bytes` (checked before
// any allocation: a sparse `truncate -s 1T` file costs nothing to make);
// RESOURCE_EXHAUSTED when the buffer cannot be allocated;
// FAILED_PRECONDITION when its permissions forbid opening it; UNAVAILABLE
// when it cannot be opened otherwise or is read short (I/O errors, a file
// truncated while read). Messages say what went wrong (with the size and
// the limit) without the path: the caller names the path and what the file
// is for.
absl::StatusOr<std::string> ReadRegularFile(const std::string& path, uintmax_t max_bytes);

// The bytes of whatever `path` opens to, up to its end: a regular file, a
// FIFO or a shell's process substitution (`<(pass show token)`), a device
// such as /dev/stdin. For secrets read once at start-up, where a pipe is the
// safer way to hand them over. NOT_FOUND when nothing is there,
// INVALID_ARGUMENT for a directory or a symbolic link to nothing,
// FAILED_PRECONDITION when its permissions forbid opening it, UNAVAILABLE
// when it cannot be read otherwise.
absl::StatusOr<std::string> ReadFileOrPipe(const std::string& path);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_COMMON_READ_FILE_H_

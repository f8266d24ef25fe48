#include "server/common/read_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace mlpserve {
namespace {

namespace fs = std::filesystem;

const char* KindName(fs::file_type type) {
  switch (type) {
    case fs::file_type::directory:
      return "a directory";
    case fs::file_type::fifo:
      return "a FIFO";
    case fs::file_type::socket:
      return "a socket";
    case fs::file_type::block:
    case fs::file_type::character:
      return "a device";
    default:
      return "not a regular file";
  }
}

// What is at `path` (symbolic links followed): NOT_FOUND when nothing is,
// INVALID_ARGUMENT for a symbolic link to nothing (a file the operator put
// there, which must not read as "no file"), UNAVAILABLE when it cannot be
// looked at.
absl::StatusOr<fs::file_status> StatusOf(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    std::error_code link_ec;
    if (fs::is_symlink(fs::symlink_status(path, link_ec))) {
      const fs::path target = fs::read_symlink(path, link_ec);
      return absl::InvalidArgumentError(absl::StrCat(
          "a symbolic link to '", link_ec ? "?" : target.string(), "', which does not exist"));
    }
    return absl::NotFoundError("no such file");
  }
  if (ec) return absl::UnavailableError(ec.message());
  return status;
}

// Why a file could not be opened: FAILED_PRECONDITION when its permissions
// forbid it (the same every time: not worth a retry), UNAVAILABLE otherwise
// (an I/O error, a file gone for a moment).
absl::Status OpenError(int error) {
  if (error == EACCES || error == EPERM) {
    return absl::FailedPreconditionError(std::strerror(error));
  }
  return absl::UnavailableError(std::strerror(error));
}

}  // namespace

absl::StatusOr<std::string> ReadRegularFile(const std::string& path, uintmax_t max_bytes) {
  absl::StatusOr<fs::file_status> status = StatusOf(path);
  if (!status.ok()) return status.status();
  if (!fs::is_regular_file(*status)) {
    return absl::InvalidArgumentError(
        absl::StrCat(KindName(status->type()), ", not a regular file"));
  }
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return absl::UnavailableError(ec.message());
  if (size > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("its size is ", size, " bytes; the limit is ", max_bytes, " bytes"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return OpenError(errno);
  std::string bytes;
  try {
    bytes.resize(static_cast<size_t>(size));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat("out of memory for its ", size, " bytes"));
  }
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<uintmax_t>(in.gcount()) != size) {
    return absl::UnavailableError(absl::StrCat("read ", in.gcount(), " of ", size, " bytes"));
  }
  return bytes;
}

absl::StatusOr<std::string> ReadFileOrPipe(const std::string& path) {
  absl::StatusOr<fs::file_status> status = StatusOf(path);
  if (!status.ok()) return status.status();
  if (fs::is_directory(*status)) return absl::InvalidArgumentError("a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return OpenError(errno);
  std::ostringstream bytes;
  bytes << in.rdbuf();  // fails (harmlessly) on an empty input
  if (in.bad()) return absl::UnavailableError("read failed");
  return bytes.str();
}

}  // namespace mlpserve

#include "server/common/read_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
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
// UNAVAILABLE when it cannot be looked at.
absl::StatusOr<fs::file_status> StatusOf(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) return absl::NotFoundError("no such file");
  if (ec) return absl::UnavailableError(ec.message());
  return status;
}

}  // namespace

absl::StatusOr<std::string> ReadRegularFile(const std::string& path) {
  absl::StatusOr<fs::file_status> status = StatusOf(path);
  if (!status.ok()) return status.status();
  if (!fs::is_regular_file(*status)) {
    return absl::InvalidArgumentError(
        absl::StrCat(KindName(status->type()), ", not a regular file"));
  }
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return absl::UnavailableError(ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(std::strerror(errno));
  std::string bytes(static_cast<size_t>(size), '\0');
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
  if (!in) return absl::UnavailableError(std::strerror(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();  // fails (harmlessly) on an empty input
  if (in.bad()) return absl::UnavailableError("read failed");
  return bytes.str();
}

}  // namespace mlpserve

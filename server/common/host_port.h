// "HOST:PORT" addresses as given on the command line.
#ifndef MLPSERVE_SERVER_COMMON_HOST_PORT_H_
#define MLPSERVE_SERVER_COMMON_HOST_PORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mlpserve {

struct HostPort {
  std::string host;  // "0.0.0.0", "127.0.0.1", "[::1]", "localhost"
  int port = 0;      // 0: pick a free port
};

// INVALID_ARGUMENT naming `flag` unless `address` is HOST:PORT with a
// non-empty host and a port in 0..65535.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view address, absl::string_view flag);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_COMMON_HOST_PORT_H_

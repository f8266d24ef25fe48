#include "server/common/protobuf_log.h"

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/stubs/logging.h"
#include "spdlog/spdlog.h"

namespace mlpserve {
namespace {

constexpr absl::Duration kWarningInterval = absl::Minutes(1);

struct Limiter {
  absl::Mutex mu;
  absl::Time next ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  int64_t suppressed ABSL_GUARDED_BY(mu) = 0;
};

Limiter& limiter() {
  static Limiter* const instance = new Limiter;
  return *instance;
}

void Handle(google::protobuf::LogLevel level, const char* filename, int line,
            const std::string& message) {
  switch (level) {
    case google::protobuf::LOGLEVEL_INFO:
      spdlog::debug("libprotobuf {}:{}: {}", filename, line, message);
      return;
    case google::protobuf::LOGLEVEL_FATAL:
      spdlog::critical("libprotobuf {}:{}: {}", filename, line, message);
      return;
    default:
      break;
  }
  Limiter& limit = limiter();
  int64_t suppressed = 0;
  {
    absl::MutexLock lock(&limit.mu);
    const absl::Time now = absl::Now();
    if (now < limit.next) {
      ++limit.suppressed;
      return;
    }
    limit.next = now + kWarningInterval;
    suppressed = limit.suppressed;
    limit.suppressed = 0;
  }
  if (suppressed > 0) {
    spdlog::warn("libprotobuf: {} ({}:{}; {} more in the last minute not logged)", message,
                 filename, line, suppressed);
  } else {
    spdlog::warn("libprotobuf: {} ({}:{})", message, filename, line);
  }
}

}  // namespace

void RouteProtobufLogsToSpdlog() { google::protobuf::SetLogHandler(&Handle); }

}  // namespace mlpserve

#include "server/common/clock.h"

namespace mlpserve {
namespace {

class WallClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

Clock* Clock::Real() {
  static const WallClock* const wall = new WallClock();
  static Clock* const clock = new NonDecreasingClock(wall);
  return clock;
}

NonDecreasingClock::NonDecreasingClock(const Clock* source)
    : source_(source), last_ns_(absl::ToUnixNanos(source->Now())) {}

absl::Time NonDecreasingClock::Now() const {
  const int64_t now = absl::ToUnixNanos(source_->Now());
  int64_t last = last_ns_.load(std::memory_order_relaxed);
  while (now > last) {
    if (last_ns_.compare_exchange_weak(last, now, std::memory_order_relaxed))
      return absl::FromUnixNanos(now);
  }
  return absl::FromUnixNanos(last);
}

}  // namespace mlpserve

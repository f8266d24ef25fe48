#include "server/common/clock.h"

#include <chrono>

namespace mlpserve {
namespace {

// The wall clock read once, at the first Now(), moved on by steady time.
class RealClock : public Clock {
 public:
  RealClock() : wall_origin_(absl::Now()), steady_origin_(std::chrono::steady_clock::now()) {}
  absl::Time Now() const override {
    return wall_origin_ + absl::FromChrono(std::chrono::steady_clock::now() - steady_origin_);
  }

 private:
  const absl::Time wall_origin_;
  const std::chrono::steady_clock::time_point steady_origin_;
};

}  // namespace

Clock* Clock::Real() {
  static Clock* const clock = new RealClock();
  return clock;
}

absl::Time FromWallDeadline(std::chrono::system_clock::time_point deadline, absl::Time clock_now,
                            std::chrono::system_clock::time_point wall_now) {
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  // In absl::Duration, which saturates instead of overflowing.
  return clock_now + (absl::FromChrono(deadline) - absl::FromChrono(wall_now));
}

}  // namespace mlpserve

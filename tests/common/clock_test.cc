// The real clock and the conversion of wall-clock deadlines onto its time
// line. No sleeps; nothing asserts how long anything took.
#include "server/common/clock.h"

#include <chrono>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace mlpserve {
namespace {

using std::chrono::system_clock;

TEST(ClockTest, RealClockNeverGoesBack) {
  Clock* clock = Clock::Real();
  absl::Time previous = clock->Now();
  for (int i = 0; i < 100000; ++i) {
    const absl::Time now = clock->Now();
    ASSERT_GE(now, previous) << "read " << i;
    previous = now;
  }
}

TEST(ClockTest, WallDeadlineKeepsTheTimeLeft) {
  // Any pair of readings taken together: the clock's time line need not
  // match the wall clock's.
  const absl::Time clock_now = absl::UnixEpoch() + absl::Hours(5);
  const system_clock::time_point wall_now = system_clock::now();
  EXPECT_EQ(FromWallDeadline(wall_now + std::chrono::seconds(3), clock_now, wall_now),
            clock_now + absl::Seconds(3));
  EXPECT_EQ(FromWallDeadline(wall_now + std::chrono::microseconds(250), clock_now, wall_now),
            clock_now + absl::Microseconds(250));
  // Already passed.
  EXPECT_EQ(FromWallDeadline(wall_now - std::chrono::seconds(2), clock_now, wall_now),
            clock_now - absl::Seconds(2));
}

TEST(ClockTest, WallClockStepDoesNotMoveAConvertedDeadline) {
  // The same request (30 s left) arriving while the wall clock reads an hour
  // off, back or forward: the deadline on the clock's time line is the same.
  const absl::Time clock_now = absl::UnixEpoch() + absl::Hours(5);
  const system_clock::time_point wall_now = system_clock::now();
  for (const auto step : {std::chrono::hours(-1), std::chrono::hours(0), std::chrono::hours(1)}) {
    const system_clock::time_point stepped = wall_now + step;
    EXPECT_EQ(FromWallDeadline(stepped + std::chrono::seconds(30), clock_now, stepped),
              clock_now + absl::Seconds(30));
  }
}

TEST(ClockTest, NoDeadlineStaysInfiniteAndFarOnesSaturate) {
  const absl::Time clock_now = absl::UnixEpoch() + absl::Hours(5);
  const system_clock::time_point wall_now = system_clock::now();
  EXPECT_EQ(FromWallDeadline(system_clock::time_point::max(), clock_now, wall_now),
            absl::InfiniteFuture());
  // Far but finite: later than any deadline that matters, and not wrapped
  // around into the past.
  const absl::Time far = FromWallDeadline(system_clock::time_point::max() - std::chrono::hours(1),
                                          clock_now, wall_now);
  EXPECT_GT(far, clock_now + absl::Hours(24 * 365 * 100));
  const absl::Time long_past =
      FromWallDeadline(system_clock::time_point::min(), clock_now, wall_now);
  EXPECT_LT(long_past, clock_now);
}

TEST(ClockTest, ATimeShownOutsideIsItsDistanceFromNowOnTheWallClock) {
  // A request that ended 90 s ago on a clock whose time line is not the
  // wall clock's: shown 90 s before the wall clock's now, whatever either
  // clock reads, also after a wall-clock step.
  const absl::Time clock_now = absl::UnixEpoch() + absl::Hours(5);
  const absl::Time ended = clock_now - absl::Seconds(90);
  const absl::Time wall_now = absl::FromUnixSeconds(1'800'000'000);
  EXPECT_EQ(ToWallTime(ended, clock_now, wall_now), wall_now - absl::Seconds(90));
  EXPECT_EQ(ToWallTime(ended, clock_now, wall_now + absl::Hours(1)),
            wall_now + absl::Hours(1) - absl::Seconds(90));
  EXPECT_EQ(ToWallTime(absl::InfinitePast(), clock_now, wall_now), absl::InfinitePast());
}

}  // namespace
}  // namespace mlpserve

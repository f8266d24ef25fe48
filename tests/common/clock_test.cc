#include "server/common/clock.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace mlpserve {
namespace {

TEST(NonDecreasingClockTest, StandsStillWhileTheSourceIsSteppedBack) {
  FakeClock wall;
  NonDecreasingClock clock(&wall);
  const absl::Time t0 = clock.Now();
  EXPECT_EQ(t0, wall.Now());
  wall.Advance(absl::Seconds(2));
  EXPECT_EQ(clock.Now() - t0, absl::Seconds(2));
  wall.Advance(absl::Seconds(-60));  // NTP steps the wall clock back
  EXPECT_EQ(clock.Now() - t0, absl::Seconds(2));
  wall.Advance(absl::Seconds(59));
  EXPECT_EQ(clock.Now() - t0, absl::Seconds(2));
  wall.Advance(absl::Seconds(3));  // caught up and past
  EXPECT_EQ(clock.Now() - t0, absl::Seconds(4));
}

TEST(NonDecreasingClockTest, NeverGoesBackAcrossThreads) {
  FakeClock wall;
  NonDecreasingClock clock(&wall);
  std::vector<std::thread> threads;
  std::vector<char> ok(4, 1);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      absl::Time last = clock.Now();
      for (int i = 0; i < 20000; ++i) {
        if (t == 0) wall.Advance(i % 3 == 0 ? absl::Microseconds(-5) : absl::Microseconds(4));
        const absl::Time now = clock.Now();
        if (now < last) ok[t] = 0;
        last = now;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_TRUE(ok[t]) << "thread " << t << " saw time go back";
}

TEST(NonDecreasingClockTest, RealClockFollowsTheWallClock) {
  const absl::Time a = absl::Now();
  const absl::Time real = Clock::Real()->Now();
  const absl::Time b = absl::Now();
  EXPECT_GE(real, a - absl::Milliseconds(1));  // within a step it may lag
  EXPECT_LE(real, b);
}

}  // namespace
}  // namespace mlpserve

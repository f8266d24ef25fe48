// Time source injected wherever a decision depends on the time (the batcher's
// queue delay, request deadlines), so tests drive time by hand instead of
// sleeping.
//
// The real clock is monotonic: an NTP step of the wall clock moves neither
// queued requests' delays and deadlines nor measured durations. Its values
// read as wall times (the wall clock at its first use plus the steady time
// elapsed since) but drift from the wall clock by any step since, so they
// cross the border in both directions as distances from "now": wall-clock
// times from outside (gRPC deadlines) enter through FromWallDeadline, once,
// when the request arrives; times shown to the outside (ModelStatistics'
// last_inference) leave through ToWallTime, when they are shown.
//
// Thread-safety: every method of every implementation is thread-safe.
#ifndef MLPSERVE_SERVER_COMMON_CLOCK_H_
#define MLPSERVE_SERVER_COMMON_CLOCK_H_

#include <chrono>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mlpserve {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // The process-wide real clock (monotonic, see above); never destroyed.
  static Clock* Real();
};

// `deadline`, a wall-clock time such as grpc::ServerContext::deadline(), on
// the time line of a clock that reads `clock_now` while the wall clock reads
// `wall_now`: clock_now + (deadline - wall_now). InfiniteFuture() for
// time_point::max() (gRPC's "no deadline"); saturates instead of overflowing.
absl::Time FromWallDeadline(std::chrono::system_clock::time_point deadline, absl::Time clock_now,
                            std::chrono::system_clock::time_point wall_now);

// `t`, a time of a clock that reads `clock_now` while the wall clock reads
// `wall_now`, as a wall time: wall_now - (clock_now - t). Infinite times stay
// as they are.
inline absl::Time ToWallTime(absl::Time t, absl::Time clock_now, absl::Time wall_now) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return t;
  return wall_now - (clock_now - t);
}

// The time from `from` to `to`, 0 when `to` is earlier: the real clock never
// goes back, but an injected one may (FakeClock::Advance with a negative
// duration), and no negative duration may reach histograms and statistics.
inline absl::Duration Elapsed(absl::Time from, absl::Time to) {
  return to > from ? to - from : absl::ZeroDuration();
}

// A clock that moves only when told to. For tests.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::UnixEpoch() + absl::Hours(1)) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  // `d` may be negative: a clock going back (the real one never does).
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_COMMON_CLOCK_H_

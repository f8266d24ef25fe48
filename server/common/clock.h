// Time source injected wherever a decision depends on the time (the batcher's
// queue delay, request deadlines), so tests drive time by hand instead of
// sleeping.
//
// Thread-safety: every method of every implementation is thread-safe.
#ifndef MLPSERVE_SERVER_COMMON_CLOCK_H_
#define MLPSERVE_SERVER_COMMON_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mlpserve {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // The process-wide real clock; never destroyed.
  static Clock* Real();
};

// The time from `from` to `to`, 0 when `to` is earlier: the real clock is
// the wall clock (gRPC deadlines are wall times), and a wall clock stepped
// back must not put negative durations into histograms and statistics.
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
  // `d` may be negative: a wall clock stepped back.
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

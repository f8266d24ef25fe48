// Time source injected wherever a decision depends on the time (the batcher's
// queue delay, request deadlines), so tests drive time by hand instead of
// sleeping.
//
// Thread-safety: every method of every implementation is thread-safe.
#ifndef MLPSERVE_SERVER_COMMON_CLOCK_H_
#define MLPSERVE_SERVER_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mlpserve {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // The process-wide real clock: the wall clock made non-decreasing (see
  // NonDecreasingClock); never destroyed.
  static Clock* Real();
};

// `source` made non-decreasing: Now() never returns less than it returned
// before. A wall clock stepped back (NTP, an operator) would otherwise give
// negative request and queue durations; after a step back this clock stands
// still until the source catches up. It stays on the wall clock's epoch
// because gRPC deadlines are wall-clock times. Lock-free.
class NonDecreasingClock : public Clock {
 public:
  explicit NonDecreasingClock(const Clock* source);
  absl::Time Now() const override;

 private:
  const Clock* const source_;
  mutable std::atomic<int64_t> last_ns_;  // Unix nanoseconds of the latest Now()
};

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

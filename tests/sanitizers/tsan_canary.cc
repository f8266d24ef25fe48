// make tsan's self-check (run_tsan.sh): proves that ThreadSanitizer sees
// absl::Mutex with the abseil the tests will load. Two threads bump a counter
// under an absl::Mutex (must not be reported) and, with any argument, a
// second counter without one (must be reported). With Debian's uninstrumented
// abseil the guarded counter is reported too, and the canary fails.
#include <cstdio>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace {
absl::Mutex mu;
int guarded = 0;
int unguarded = 0;
}  // namespace

int main(int argc, char**) {
  const bool racy = argc > 1;
  auto work = [racy] {
    for (int i = 0; i < 1000; ++i) {
      {
        absl::MutexLock lock(&mu);
        ++guarded;
      }
      if (racy) ++unguarded;
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  std::printf("guarded %d unguarded %d\n", guarded, unguarded);
  return 0;
}

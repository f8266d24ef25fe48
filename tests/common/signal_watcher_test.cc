// SignalWatcher with real signals sent to this process. Each case runs in a
// child process of its own (a death test that exits 0 when every check
// holds): a watcher's thread stays for the life of its process and takes
// that process's signals, so two cases must never share one.
#include "server/common/signal_watcher.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "gtest/gtest.h"

namespace mlpserve {
namespace {

// In the child: exits 1 with `what` on stderr unless `ok`.
void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "check failed: %s\n", what);
  std::_Exit(1);
}

TEST(SignalWatcherDeathTest, FirstSigtermRunsTheCallbackThenWakesWait) {
  EXPECT_EXIT(
      {
        SignalWatcher watcher;
        std::atomic<bool> called{false};
        watcher.Start([&] { called = true; });
        Check(!watcher.terminated(), "not terminated before a signal");
        kill(getpid(), SIGTERM);
        Check(watcher.Wait() == SIGTERM, "Wait returns SIGTERM");
        Check(called, "the callback ran before Wait returned");
        Check(watcher.terminated(), "terminated after the signal");
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(SignalWatcherDeathTest, SighupIsIgnored) {
  EXPECT_EXIT(
      {
        SignalWatcher watcher;
        watcher.Start(nullptr);
        kill(getpid(), SIGHUP);  // the process would die of it unwatched
        kill(getpid(), SIGINT);
        Check(watcher.Wait() == SIGINT, "SIGHUP was not taken as a termination");
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(SignalWatcherDeathTest, SecondSigtermExitsAtOnce) {
  EXPECT_EXIT(
      {
        SignalWatcher watcher;
        watcher.Start(nullptr);
        kill(getpid(), SIGTERM);
        watcher.Wait();
        kill(getpid(), SIGTERM);
        pause();  // the watcher thread ends the process
      },
      ::testing::ExitedWithCode(128 + SIGTERM), "");
}

// The watcher goes out of scope with its thread still waiting: the callback
// is not called for a later signal, and the thread uses only what it owns
// (ASan: no use of the destroyed watcher's memory).
TEST(SignalWatcherDeathTest, OutlivedWatcherNeitherCallsBackNorTouchesItsMemory) {
  EXPECT_EXIT(
      {
        std::atomic<bool> called{false};
        {
          SignalWatcher watcher;
          watcher.Start([&] { called = true; });
        }
        kill(getpid(), SIGTERM);  // taken by the detached thread
        usleep(200 * 1000);       // let it run; it must not call back
        Check(!called, "no callback after destruction");
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace mlpserve

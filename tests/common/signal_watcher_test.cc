// SignalWatcher with real signals sent to this process (each case runs in a
// process of its own: gtest_discover_tests; the exits in death tests).
#include "server/common/signal_watcher.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include "gtest/gtest.h"

namespace mlpserve {
namespace {

TEST(SignalWatcherTest, FirstSigtermRunsTheCallbackThenWakesWait) {
  SignalWatcher watcher;
  std::atomic<bool> called{false};
  watcher.Start([&] { called = true; });
  EXPECT_FALSE(watcher.terminated());
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  EXPECT_EQ(watcher.Wait(), SIGTERM);
  EXPECT_TRUE(called);  // before Wait returned
  EXPECT_TRUE(watcher.terminated());
}

TEST(SignalWatcherTest, SighupIsIgnored) {
  SignalWatcher watcher;
  watcher.Start(nullptr);
  ASSERT_EQ(kill(getpid(), SIGHUP), 0);  // the process would die of it unwatched
  ASSERT_EQ(kill(getpid(), SIGINT), 0);
  EXPECT_EQ(watcher.Wait(), SIGINT);  // SIGHUP was not taken as a termination
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

}  // namespace
}  // namespace mlpserve

// RepositoryController: tasks run in order on its thread; Stop answers the
// waiting ones UNAVAILABLE at once while the running one finishes; the queue
// is bounded.
#include "server/repository/repository_controller.h"

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace mlpserve {
namespace {

// Statuses handed to `done`, by task index, in the order they arrived.
class Outcomes {
 public:
  absl::AnyInvocable<void(absl::Status)> Done(int index) {
    return [this, index](absl::Status status) {
      absl::MutexLock lock(&mu_);
      seen_.push_back({index, std::move(status)});
    };
  }
  // Waits until `n` outcomes arrived; returns them.
  std::vector<std::pair<int, absl::Status>> Await(size_t n) {
    absl::MutexLock lock(&mu_);
    auto arrived = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return seen_.size() >= n; };
    mu_.Await(absl::Condition(&arrived));
    return seen_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::pair<int, absl::Status>> seen_ ABSL_GUARDED_BY(mu_);
};

// A task that blocks until `release` is notified, after telling `started`.
absl::AnyInvocable<absl::Status()> Blocking(absl::Notification* started,
                                            absl::Notification* release) {
  return [started, release] {
    started->Notify();
    release->WaitForNotification();
    return absl::OkStatus();
  };
}

TEST(RepositoryControllerTest, RunsTasksInOrderAndReportsTheirStatus) {
  RepositoryController controller(/*repository=*/nullptr, absl::ZeroDuration());
  Outcomes outcomes;
  controller.Submit([] { return absl::OkStatus(); }, outcomes.Done(0));
  controller.Submit([] { return absl::NotFoundError("no model 'x'"); }, outcomes.Done(1));
  const auto seen = outcomes.Await(2);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, 0);
  EXPECT_TRUE(seen[0].second.ok());
  EXPECT_EQ(seen[1].first, 1);
  EXPECT_EQ(seen[1].second.code(), absl::StatusCode::kNotFound);
}

TEST(RepositoryControllerTest, StopAnswersWaitingTasksAtOnceAndLetsTheRunningOneFinish) {
  RepositoryController controller(/*repository=*/nullptr, absl::ZeroDuration());
  Outcomes outcomes;
  absl::Notification started, release;
  controller.Submit(Blocking(&started, &release), outcomes.Done(0));
  started.WaitForNotification();
  bool ran_after_stop = false;
  for (int i = 1; i <= 3; ++i) {
    controller.Submit(
        [&ran_after_stop] {
          ran_after_stop = true;
          return absl::OkStatus();
        },
        outcomes.Done(i));
  }

  controller.Stop();  // returns while task 0 is still running
  const auto waiting = outcomes.Await(3);
  ASSERT_EQ(waiting.size(), 3u);
  for (const auto& [index, status] : waiting) {
    EXPECT_NE(index, 0);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << "task " << index;
  }
  Outcomes late;
  controller.Submit([] { return absl::OkStatus(); }, late.Done(4));
  EXPECT_EQ(late.Await(1)[0].second.code(), absl::StatusCode::kUnavailable);

  release.Notify();
  const auto all = outcomes.Await(4);
  EXPECT_EQ(all[3].first, 0);
  EXPECT_TRUE(all[3].second.ok());
  EXPECT_FALSE(ran_after_stop);
}

TEST(RepositoryControllerTest, RefusesTasksBeyondTheQueueBound) {
  RepositoryController controller(/*repository=*/nullptr, absl::ZeroDuration());
  Outcomes outcomes;
  absl::Notification started, release;
  controller.Submit(Blocking(&started, &release), outcomes.Done(-1));
  started.WaitForNotification();  // the running task is not in the queue
  const int queued = static_cast<int>(RepositoryController::kMaxQueuedTasks);
  for (int i = 0; i <= queued; ++i) {
    controller.Submit([] { return absl::OkStatus(); }, outcomes.Done(i));
  }
  const auto refused = outcomes.Await(1);
  EXPECT_EQ(refused[0].first, queued);
  EXPECT_EQ(refused[0].second.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused[0].second.message().find("retry later"), absl::string_view::npos);

  release.Notify();
  const auto all = outcomes.Await(static_cast<size_t>(queued) + 2);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_TRUE(all[i].second.ok()) << all[i].first;
}

}  // namespace
}  // namespace mlpserve

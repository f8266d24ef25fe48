// BatchQueue: the batching policy, driven by a FakeClock; no threads, no
// sleeps.
#include "server/scheduler/batch_queue.h"

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"

namespace mlpserve {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class BatchQueueTest : public ::testing::Test {
 protected:
  BatchQueueOptions Options(int64_t max_batch_size, absl::Duration delay) {
    BatchQueueOptions options;
    options.name = "m:1";
    options.max_batch_size = max_batch_size;
    options.dynamic_batching = true;
    options.max_queue_delay = delay;
    return options;
  }

  // A request whose `input` is its name, so batches can be compared by name.
  std::unique_ptr<InferRequest> Request(const std::string& name, int64_t rows,
                                        absl::Time deadline = absl::InfiniteFuture()) {
    names_.push_back(name);
    auto request = std::make_unique<InferRequest>();
    request->rows = rows;
    request->input = names_.back();
    request->deadline = deadline;
    return request;
  }

  void Push(BatchQueue& queue, const std::string& name, int64_t rows,
            absl::Time deadline = absl::InfiniteFuture()) {
    ASSERT_TRUE(queue.Push(Request(name, rows, deadline), clock_.Now()).ok());
  }

  // Pushes a 1-row request `name` whose is_cancelled() answers *cancelled.
  void PushCancellable(BatchQueue& queue, const std::string& name,
                       const std::atomic<bool>* cancelled) {
    auto request = Request(name, 1);
    request->is_cancelled = [cancelled] { return cancelled->load(); };
    ASSERT_TRUE(queue.Push(std::move(request), clock_.Now()).ok());
  }

  static std::vector<std::string> Names(const BatchDecision& decision) {
    std::vector<std::string> names;
    for (const auto& request : decision.batch) names.emplace_back(request->input);
    return names;
  }

  static std::vector<std::string> DroppedNames(const BatchDecision& decision) {
    std::vector<std::string> names;
    for (const auto& dropped : decision.dropped) names.emplace_back(dropped.request->input);
    return names;
  }

  FakeClock clock_;
  std::deque<std::string> names_;  // stable addresses for the inputs' views
};

TEST_F(BatchQueueTest, EmptyQueueWaitsForARequest) {
  BatchQueue queue(Options(8, absl::Milliseconds(5)));
  BatchDecision decision = queue.Next(clock_.Now(), /*flush=*/false);
  EXPECT_THAT(decision.batch, IsEmpty());
  EXPECT_THAT(decision.dropped, IsEmpty());
  EXPECT_EQ(decision.wake_at, absl::InfiniteFuture());
}

TEST_F(BatchQueueTest, BatchNeverExceedsMaxBatchSize) {
  BatchQueue queue(Options(8, absl::Seconds(1)));
  for (int i = 0; i < 10; ++i) Push(queue, "r" + std::to_string(i), 1);

  BatchDecision first = queue.Next(clock_.Now(), false);
  EXPECT_EQ(first.rows, 8);
  EXPECT_THAT(Names(first), ElementsAre("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"));
  EXPECT_EQ(queue.size(), 2u);

  // The rest is not full: it waits for the delay.
  BatchDecision second = queue.Next(clock_.Now(), false);
  EXPECT_THAT(second.batch, IsEmpty());
  EXPECT_EQ(second.wake_at, clock_.Now() + absl::Seconds(1));
}

TEST_F(BatchQueueTest, FullWhenNextRequestDoesNotFit) {
  BatchQueue queue(Options(8, absl::Seconds(1)));
  Push(queue, "a", 3);
  Push(queue, "b", 3);
  EXPECT_THAT(queue.Next(clock_.Now(), false).batch, IsEmpty());
  Push(queue, "c", 3);  // 9 > 8: a+b is as full as it gets
  BatchDecision decision = queue.Next(clock_.Now(), false);
  EXPECT_THAT(Names(decision), ElementsAre("a", "b"));
  EXPECT_EQ(decision.rows, 6);
  EXPECT_EQ(queue.size(), 1u);
}

TEST_F(BatchQueueTest, RequestIsNeverSplit) {
  BatchQueue queue(Options(8, absl::Milliseconds(10)));
  Push(queue, "a", 5);
  Push(queue, "b", 5);
  BatchDecision first = queue.Next(clock_.Now(), false);
  EXPECT_THAT(Names(first), ElementsAre("a"));
  EXPECT_EQ(first.rows, 5);

  EXPECT_THAT(queue.Next(clock_.Now(), false).batch, IsEmpty());
  clock_.Advance(absl::Milliseconds(10));
  BatchDecision second = queue.Next(clock_.Now(), false);
  EXPECT_THAT(Names(second), ElementsAre("b"));
  EXPECT_EQ(second.rows, 5);
  EXPECT_TRUE(queue.empty());
}

TEST_F(BatchQueueTest, BatchExactlyMaxStartsAtOnce) {
  BatchQueue queue(Options(8, absl::Seconds(1)));
  Push(queue, "a", 4);
  Push(queue, "b", 4);
  BatchDecision decision = queue.Next(clock_.Now(), false);
  EXPECT_THAT(Names(decision), ElementsAre("a", "b"));
  EXPECT_EQ(decision.rows, 8);
}

TEST_F(BatchQueueTest, PreferredSizeStartsBatch) {
  BatchQueueOptions options = Options(16, absl::Seconds(1));
  options.preferred_batch_sizes = {4, 8};
  BatchQueue queue(options);
  for (int i = 0; i < 3; ++i) Push(queue, "r" + std::to_string(i), 1);
  EXPECT_THAT(queue.Next(clock_.Now(), false).batch, IsEmpty());

  Push(queue, "r3", 1);
  BatchDecision decision = queue.Next(clock_.Now(), false);
  EXPECT_THAT(Names(decision), ElementsAre("r0", "r1", "r2", "r3"));
  EXPECT_EQ(decision.rows, 4);
  EXPECT_TRUE(queue.empty());
}

TEST_F(BatchQueueTest, LongestPreferredPrefixIsTakenAndRestWaits) {
  BatchQueueOptions options = Options(16, absl::Seconds(1));
  options.preferred_batch_sizes = {4, 8};
  BatchQueue queue(options);
  for (int i = 0; i < 6; ++i) Push(queue, "r" + std::to_string(i), 2);  // prefixes 2,4,..,12

  BatchDecision decision = queue.Next(clock_.Now(), false);
  EXPECT_THAT(Names(decision), ElementsAre("r0", "r1", "r2", "r3"));
  EXPECT_EQ(decision.rows, 8);
  EXPECT_EQ(queue.size(), 2u);  // 4 rows is preferred too, so it goes at once
  BatchDecision rest = queue.Next(clock_.Now(), false);
  EXPECT_THAT(Names(rest), ElementsAre("r4", "r5"));
}

TEST_F(BatchQueueTest, RowsNotHittingAPreferredSizeWaitForTheDelay) {
  BatchQueueOptions options = Options(16, absl::Milliseconds(3));
  options.preferred_batch_sizes = {4};
  BatchQueue queue(options);
  Push(queue, "a", 3);
  Push(queue, "b", 3);  // prefixes 3, 6: never exactly 4
  EXPECT_THAT(queue.Next(clock_.Now(), false).batch, IsEmpty());
  clock_.Advance(absl::Milliseconds(3));
  EXPECT_THAT(Names(queue.Next(clock_.Now(), false)), ElementsAre("a", "b"));
}

TEST_F(BatchQueueTest, DelayExpiry) {
  BatchQueue queue(Options(8, absl::Milliseconds(10)));
  const absl::Time start = clock_.Now();
  Push(queue, "a", 1);
  clock_.Advance(absl::Milliseconds(4));
  Push(queue, "b", 1);

  clock_.Advance(absl::Milliseconds(6) - absl::Microseconds(1));  // just below the delay
  BatchDecision early = queue.Next(clock_.Now(), false);
  EXPECT_THAT(early.batch, IsEmpty());
  EXPECT_EQ(early.wake_at, start + absl::Milliseconds(10));  // the oldest request decides

  clock_.Advance(absl::Microseconds(1));  // exactly the delay
  BatchDecision decision = queue.Next(clock_.Now(), false);
  EXPECT_THAT(Names(decision), ElementsAre("a", "b"));
  EXPECT_EQ(decision.batch[0]->enqueue_time, start);
}

TEST_F(BatchQueueTest, ZeroDelayStartsAtOnce) {
  BatchQueue queue(Options(8, absl::ZeroDuration()));
  Push(queue, "a", 1);
  Push(queue, "b", 2);
  BatchDecision decision = queue.Next(clock_.Now(), false);
  EXPECT_THAT(Names(decision), ElementsAre("a", "b"));
  EXPECT_EQ(decision.rows, 3);
}

TEST_F(BatchQueueTest, FlushIgnoresTheDelay) {
  BatchQueue queue(Options(8, absl::Hours(1)));
  Push(queue, "a", 1);
  EXPECT_THAT(queue.Next(clock_.Now(), false).batch, IsEmpty());
  EXPECT_THAT(Names(queue.Next(clock_.Now(), /*flush=*/true)), ElementsAre("a"));
}

TEST_F(BatchQueueTest, DeadlineExpiresWhileQueued) {
  BatchQueue queue(Options(8, absl::Milliseconds(100)));
  const absl::Time deadline = clock_.Now() + absl::Milliseconds(5);
  Push(queue, "a", 1);
  Push(queue, "b", 1, deadline);
  Push(queue, "c", 1);

  // The wake-up time is the deadline, not the end of the delay.
  BatchDecision waiting = queue.Next(clock_.Now(), false);
  EXPECT_THAT(waiting.batch, IsEmpty());
  EXPECT_EQ(waiting.wake_at, deadline);

  clock_.Advance(absl::Milliseconds(5));
  BatchDecision expired = queue.Next(clock_.Now(), false);
  EXPECT_THAT(expired.batch, IsEmpty());
  ASSERT_THAT(DroppedNames(expired), ElementsAre("b"));
  EXPECT_EQ(expired.dropped[0].status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(expired.dropped[0].status.message(), HasSubstr("m:1"));
  EXPECT_EQ(expired.wake_at, clock_.Now() + absl::Milliseconds(95));
  EXPECT_EQ(queue.size(), 2u);

  clock_.Advance(absl::Milliseconds(95));
  EXPECT_THAT(Names(queue.Next(clock_.Now(), false)), ElementsAre("a", "c"));
}

TEST_F(BatchQueueTest, ExpiredRequestsAreDroppedEvenWhenFlushing) {
  BatchQueue queue(Options(8, absl::ZeroDuration()));
  Push(queue, "late", 1, clock_.Now() + absl::Milliseconds(1));
  Push(queue, "ok", 1);
  clock_.Advance(absl::Milliseconds(1));
  BatchDecision decision = queue.Next(clock_.Now(), /*flush=*/true);
  EXPECT_THAT(DroppedNames(decision), ElementsAre("late"));
  EXPECT_THAT(Names(decision), ElementsAre("ok"));
}

TEST_F(BatchQueueTest, CancelledRequestsAreDropped) {
  BatchQueue queue(Options(8, absl::ZeroDuration()));
  std::atomic<bool> cancelled{false};
  Push(queue, "a", 1);
  PushCancellable(queue, "b", &cancelled);
  Push(queue, "c", 1);
  cancelled = true;

  BatchDecision decision = queue.Next(clock_.Now(), false);
  EXPECT_THAT(Names(decision), ElementsAre("a", "c"));
  ASSERT_THAT(DroppedNames(decision), ElementsAre("b"));
  EXPECT_EQ(decision.dropped[0].status.code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(queue.empty());
}

// A wake-up before the delay ends starts nothing and leaves the live
// requests where they were, in order, but still drops a cancelled one
// inside the candidate batch.
TEST_F(BatchQueueTest, EarlyWakeUpDropsCancelledAndKeepsTheRestInOrder) {
  BatchQueue queue(Options(8, absl::Milliseconds(5)));
  std::atomic<bool> cancelled{false};
  const absl::Time start = clock_.Now();
  Push(queue, "a", 2);
  PushCancellable(queue, "b", &cancelled);
  Push(queue, "c", 3);
  cancelled = true;

  BatchDecision early = queue.Next(clock_.Now(), /*flush=*/false);
  EXPECT_THAT(Names(early), IsEmpty());
  EXPECT_THAT(DroppedNames(early), ElementsAre("b"));
  EXPECT_EQ(early.wake_at, start + absl::Milliseconds(5));
  EXPECT_EQ(queue.size(), 2u);

  clock_.Advance(absl::Milliseconds(5));
  BatchDecision due = queue.Next(clock_.Now(), /*flush=*/false);
  EXPECT_THAT(Names(due), ElementsAre("a", "c"));
  EXPECT_EQ(due.rows, 5);
  EXPECT_THAT(DroppedNames(due), IsEmpty());
  EXPECT_TRUE(queue.empty());
}

TEST_F(BatchQueueTest, RemoveTakesOutExactlyTheRequestWithThatId) {
  // A 10 minute delay: Next() would start nothing, so nothing but Remove
  // looks at the requests.
  BatchQueue queue(Options(8, absl::Minutes(10)));
  // Every request reports cancellation and counts the polls: Remove must
  // neither ask them nor take out any but the one named.
  std::atomic<int> polls{0};
  const std::vector<std::string> names = {"a", "b", "c", "d"};
  for (size_t i = 0; i < names.size(); ++i) {
    auto request = Request(names[i], 1);
    request->id = 100 + i;
    request->is_cancelled = [&polls] {
      ++polls;
      return true;
    };
    ASSERT_TRUE(queue.Push(std::move(request), clock_.Now()).ok());
  }
  EXPECT_FALSE(queue.Remove(7, clock_.Now()).has_value());  // no such request
  EXPECT_FALSE(queue.Remove(0, clock_.Now()).has_value());  // 0 names none

  std::optional<DroppedRequest> dropped = queue.Remove(102, clock_.Now());
  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(dropped->request->input, "c");
  EXPECT_EQ(dropped->status.code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(dropped->status.message(), HasSubstr("m:1"));
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(polls.load(), 0);
  EXPECT_FALSE(queue.Remove(102, clock_.Now()).has_value());  // not twice

  // The others are still queued, in order (Next drops them now: they report
  // cancellation), and "c" is not answered twice.
  BatchDecision decision = queue.Next(clock_.Now(), /*flush=*/true);
  EXPECT_THAT(DroppedNames(decision), ElementsAre("a", "b", "d"));
  EXPECT_TRUE(queue.empty());
}

// gRPC also cancels a call whose deadline passed (OnCancel): that request
// is answered DEADLINE_EXCEEDED, not CANCELLED, whichever looks first.
TEST_F(BatchQueueTest, RemoveAnswersAnExpiredRequestDeadlineExceeded) {
  BatchQueue queue(Options(8, absl::Minutes(10)));
  const absl::Time start = clock_.Now();
  auto expired = Request("expired", 1, start + absl::Milliseconds(5));
  expired->id = 1;
  ASSERT_TRUE(queue.Push(std::move(expired), clock_.Now()).ok());
  auto cancelled = Request("cancelled", 1, clock_.Now() + absl::Minutes(1));
  cancelled->id = 2;
  ASSERT_TRUE(queue.Push(std::move(cancelled), clock_.Now()).ok());
  Push(queue, "live", 1, clock_.Now() + absl::Minutes(1));
  clock_.Advance(absl::Milliseconds(5));

  std::optional<DroppedRequest> dropped = queue.Remove(1, clock_.Now());
  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(dropped->request->input, "expired");
  EXPECT_EQ(dropped->status.code(), absl::StatusCode::kDeadlineExceeded);
  dropped = queue.Remove(2, clock_.Now());
  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(dropped->request->input, "cancelled");
  EXPECT_EQ(dropped->status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(queue.size(), 1u);
  // The removed deadlines no longer wake the executor: only "live"'s does.
  EXPECT_EQ(queue.Next(clock_.Now(), false).wake_at, start + absl::Minutes(1));
}

TEST_F(BatchQueueTest, FifoOrderKeptAcrossBatches) {
  BatchQueue queue(Options(4, absl::ZeroDuration()));
  const std::vector<int64_t> rows = {1, 3, 2, 2, 4, 1, 1, 1};
  for (size_t i = 0; i < rows.size(); ++i) Push(queue, "r" + std::to_string(i), rows[i]);
  std::vector<std::string> order;
  std::vector<int64_t> batch_rows;
  while (!queue.empty()) {
    BatchDecision decision = queue.Next(clock_.Now(), false);
    ASSERT_FALSE(decision.batch.empty());
    for (const std::string& name : Names(decision)) order.push_back(name);
    batch_rows.push_back(decision.rows);
  }
  EXPECT_THAT(order, ElementsAre("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"));
  EXPECT_THAT(batch_rows, ElementsAre(4, 4, 4, 3));
}

TEST_F(BatchQueueTest, QueueFullIsResourceExhausted) {
  BatchQueueOptions options = Options(8, absl::Seconds(1));
  options.name = "x:1";
  options.max_queue_size = 3;
  BatchQueue queue(options);
  for (int i = 0; i < 3; ++i) Push(queue, "r" + std::to_string(i), 1);
  absl::Status status = queue.Push(Request("extra", 1), clock_.Now());
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "model 'x:1' queue is full (3 requests)");
  EXPECT_EQ(queue.size(), 3u);
}

TEST_F(BatchQueueTest, FullQueueMakesRoomByDroppingCancelledRequests) {
  BatchQueueOptions options = Options(8, absl::Seconds(1));
  options.max_queue_size = 4;
  BatchQueue queue(options);
  std::atomic<bool> cancelled{false};
  for (int i = 0; i < 4; ++i) {
    auto request = Request("r" + std::to_string(i), 1);
    if (i == 1 || i == 2) request->is_cancelled = [&cancelled] { return cancelled.load(); };
    ASSERT_TRUE(queue.Push(std::move(request), clock_.Now()).ok());
  }
  EXPECT_EQ(queue.Push(Request("refused", 1), clock_.Now()).code(),
            absl::StatusCode::kResourceExhausted);  // full, and nobody gave up

  cancelled = true;
  // The sweep just ran for "refused": the next one waits for the interval.
  EXPECT_EQ(queue.Push(Request("early", 1), clock_.Now()).code(),
            absl::StatusCode::kResourceExhausted);
  clock_.Advance(BatchQueue::kCancelledSweepInterval);
  Push(queue, "x", 1);
  Push(queue, "y", 1);
  EXPECT_EQ(queue.size(), 4u);

  clock_.Advance(absl::Seconds(1));  // the delay expires
  BatchDecision decision = queue.Next(clock_.Now(), false);
  EXPECT_THAT(DroppedNames(decision), ElementsAre("r1", "r2"));
  for (const DroppedRequest& dropped : decision.dropped) {
    EXPECT_EQ(dropped.status.code(), absl::StatusCode::kCancelled);
  }
  EXPECT_THAT(Names(decision), ElementsAre("r0", "r3", "x", "y"));
}

TEST_F(BatchQueueTest, RowsOutOfRangeAreRejected) {
  BatchQueue queue(Options(8, absl::Seconds(1)));
  EXPECT_EQ(queue.Push(Request("big", 9), clock_.Now()).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(queue.Push(Request("none", 0), clock_.Now()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(queue.empty());
}

TEST_F(BatchQueueTest, WithoutDynamicBatchingEveryRequestIsItsOwnBatch) {
  BatchQueueOptions options = Options(8, absl::Seconds(10));
  options.dynamic_batching = false;
  options.preferred_batch_sizes = {2};
  BatchQueue queue(options);
  Push(queue, "a", 1);
  Push(queue, "b", 1);
  Push(queue, "c", 3);
  for (const char* name : {"a", "b", "c"}) {
    BatchDecision decision = queue.Next(clock_.Now(), false);
    EXPECT_THAT(Names(decision), ElementsAre(name));
  }
  EXPECT_TRUE(queue.empty());
}

TEST_F(BatchQueueTest, ValidateRejectsBadOptions) {
  BatchQueueOptions options = Options(8, absl::Milliseconds(1));
  EXPECT_TRUE(BatchQueue::Validate(options).ok());

  BatchQueueOptions zero = options;
  zero.max_batch_size = 0;
  EXPECT_EQ(BatchQueue::Validate(zero).code(), absl::StatusCode::kInvalidArgument);

  BatchQueueOptions negative_delay = options;
  negative_delay.max_queue_delay = -absl::Milliseconds(1);
  EXPECT_EQ(BatchQueue::Validate(negative_delay).code(), absl::StatusCode::kInvalidArgument);

  BatchQueueOptions too_big = options;
  too_big.preferred_batch_sizes = {4, 16};
  EXPECT_EQ(BatchQueue::Validate(too_big).code(), absl::StatusCode::kInvalidArgument);

  BatchQueueOptions unordered = options;
  unordered.preferred_batch_sizes = {4, 2};
  EXPECT_EQ(BatchQueue::Validate(unordered).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlpserve

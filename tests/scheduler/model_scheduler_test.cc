// ModelScheduler with fake runners and the real clock (one test uses a
// FakeClock). Every wait is bounded; nothing asserts how long anything took.
#include "server/scheduler/model_scheduler.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"

namespace mlpserve {
namespace {

using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::Le;

constexpr int64_t kInputs = 2;
constexpr int64_t kOutputs = 3;
constexpr absl::Duration kWait = absl::Seconds(10);

// Output row of input row (a, b): what the fake runner computes.
std::vector<float> Expected(float a, float b) { return {a * 1000 + b, a - b, a + 0.5f}; }

// What every runner of one test saw, shared by them.
struct RunLog {
  absl::Mutex mu;
  std::vector<int64_t> batch_rows ABSL_GUARDED_BY(mu);
  std::vector<size_t> batch_requests ABSL_GUARDED_BY(mu);
  int sampled ABSL_GUARDED_BY(mu) = 0;

  void Record(int64_t rows, size_t requests, bool sample) {
    absl::MutexLock lock(&mu);
    batch_rows.push_back(rows);
    batch_requests.push_back(requests);
    if (sample) ++sampled;
  }
};

class FakeRunner : public BatchRunner {
 public:
  FakeRunner(RunLog* log, absl::Status run_status) : log_(log), run_status_(run_status) {}

  absl::StatusOr<absl::Span<const float>> Run(absl::Span<const absl::string_view> inputs,
                                              int64_t rows,
                                              BatchActivationCounts* counts) override {
    log_->Record(rows, inputs.size(), counts != nullptr);
    if (!run_status_.ok()) return run_status_;
    std::vector<float> in;
    for (absl::string_view piece : inputs) {
      const size_t first = in.size();
      in.resize(first + piece.size() / sizeof(float));
      std::memcpy(in.data() + first, piece.data(), piece.size());
    }
    if (static_cast<int64_t>(in.size()) != rows * kInputs) {
      return absl::InternalError("fake runner: input size does not match rows");
    }
    out_.clear();
    for (int64_t r = 0; r < rows; ++r) {
      for (float v : Expected(in[r * kInputs], in[r * kInputs + 1])) out_.push_back(v);
    }
    if (counts != nullptr) counts->rows = rows;
    return absl::Span<const float>(out_);
  }
  int64_t input_features() const override { return kInputs; }
  int64_t output_features() const override { return kOutputs; }

 private:
  RunLog* const log_;
  const absl::Status run_status_;
  std::vector<float> out_;
};

BatchRunnerFactory Factory(RunLog* log, absl::Status run_status = absl::OkStatus()) {
  return [log, run_status]() -> absl::StatusOr<std::unique_ptr<BatchRunner>> {
    return std::make_unique<FakeRunner>(log, run_status);
  };
}

class RecordingObserver : public BatchObserver {
 public:
  void OnBatch(const BatchReport& report) override {
    absl::MutexLock lock(&mu_);
    rows_ += report.rows;
    requests_ += report.requests;
    ++batches_;
    if (!report.status.ok()) ++failed_;
    if (report.activations != nullptr) ++sampled_;
  }
  void OnQueueDepth(size_t depth) override {
    absl::MutexLock lock(&mu_);
    last_depth_ = static_cast<int64_t>(depth);
  }
  int64_t rows() const { return Get(&RecordingObserver::rows_); }
  int64_t requests() const { return Get(&RecordingObserver::requests_); }
  int64_t batches() const { return Get(&RecordingObserver::batches_); }
  int64_t failed() const { return Get(&RecordingObserver::failed_); }
  int64_t sampled() const { return Get(&RecordingObserver::sampled_); }
  int64_t last_depth() const { return Get(&RecordingObserver::last_depth_); }

 private:
  int64_t Get(int64_t RecordingObserver::*field) const {
    absl::MutexLock lock(&mu_);
    return this->*field;
  }
  mutable absl::Mutex mu_;
  int64_t rows_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t requests_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t batches_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t sampled_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_depth_ ABSL_GUARDED_BY(mu_) = -1;  // -1: never published
};

// One client call: owns the input bytes and records what `done` got.
struct Call {
  float id = 0;
  int64_t rows = 0;
  std::string input;
  std::atomic<int> calls{0};
  absl::Notification answered;
  absl::Status status;  // written once, before `answered`
  std::vector<float> output;
  InferTiming timing;

  // A request for rows (id, 0), (id, 1), ...; `deadline` as given.
  std::unique_ptr<InferRequest> MakeRequest(absl::Time deadline = absl::InfiniteFuture()) {
    std::vector<float> values;
    for (int64_t r = 0; r < rows; ++r) {
      values.push_back(id);
      values.push_back(static_cast<float>(r));
    }
    input.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
    auto request = std::make_unique<InferRequest>();
    request->rows = rows;
    request->input = input;
    request->deadline = deadline;
    request->done = [this](absl::StatusOr<absl::Span<const float>> result, const InferTiming& t) {
      if (calls.fetch_add(1) > 0) return;  // answered twice: caught by the `calls` check
      status = result.status();
      if (result.ok()) output.assign(result->begin(), result->end());
      timing = t;
      answered.Notify();
    };
    return request;
  }

  bool Wait() { return answered.WaitForNotificationWithTimeout(kWait); }

  void ExpectOwnRows() const {
    ASSERT_TRUE(status.ok()) << status;
    std::vector<float> expected;
    for (int64_t r = 0; r < rows; ++r) {
      for (float v : Expected(id, static_cast<float>(r))) expected.push_back(v);
    }
    EXPECT_EQ(output, expected) << "request " << id;
    EXPECT_GE(timing.batch_rows, rows);
  }
};

SchedulerOptions BatchingOptions(RecordingObserver* observer) {
  SchedulerOptions options;
  options.batching.name = "m:1";
  options.batching.dynamic_batching = true;
  options.batching.max_batch_size = 32;
  options.batching.max_queue_delay = absl::Milliseconds(2);
  options.observer = observer;
  return options;
}

// Batching with queue delay `delay` on `clock`, which only the test moves.
SchedulerOptions FakeClockBatchingOptions(FakeClock* clock, absl::Duration delay) {
  SchedulerOptions options = BatchingOptions(nullptr);
  options.batching.max_queue_delay = delay;
  options.clock = clock;
  return options;
}

class ConcurrentSubmitTest : public ::testing::TestWithParam<int> {};

TEST_P(ConcurrentSubmitTest, EverySubmitterGetsExactlyItsOwnRows) {
  constexpr int kThreads = 64;
  constexpr int kPerThread = 4;
  RunLog log;
  RecordingObserver observer;
  SchedulerOptions options = BatchingOptions(&observer);
  options.instance_count = GetParam();
  auto scheduler = ModelScheduler::Create(Factory(&log), options);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();

  std::vector<Call> calls(kThreads * kPerThread);
  int64_t total_rows = 0;
  for (size_t i = 0; i < calls.size(); ++i) {
    calls[i].id = static_cast<float>(i + 1);
    calls[i].rows = 1 + static_cast<int64_t>((i * 7) % 12);  // 1..12 rows, mixed
    total_rows += calls[i].rows;
  }
  std::vector<std::thread> submitters;
  std::atomic<int> not_ok{0};
  for (int t = 0; t < kThreads; ++t) {
    submitters.emplace_back([&, t] {
      for (int j = 0; j < kPerThread; ++j) {
        Call& call = calls[t * kPerThread + j];
        if (!(*scheduler)->Submit(call.MakeRequest()).ok()) ++not_ok;
      }
      for (int j = 0; j < kPerThread; ++j) calls[t * kPerThread + j].Wait();
    });
  }
  for (std::thread& thread : submitters) thread.join();
  EXPECT_EQ(not_ok.load(), 0);
  for (const Call& call : calls) {
    ASSERT_TRUE(call.answered.HasBeenNotified()) << "request " << call.id << " never answered";
    call.ExpectOwnRows();
  }
  scheduler->reset();  // joins the executors: every OnBatch has run

  for (const Call& call : calls) EXPECT_EQ(call.calls.load(), 1) << "request " << call.id;
  EXPECT_EQ(observer.rows(), total_rows);
  EXPECT_EQ(observer.requests(), static_cast<int64_t>(calls.size()));
  // The queue is empty and the last depth published says so (publishing
  // outside the scheduler's lock could leave a stale non-zero value).
  EXPECT_EQ(observer.last_depth(), 0);
  absl::MutexLock lock(&log.mu);
  EXPECT_THAT(log.batch_rows, Each(Le(32)));
  int64_t run_rows = 0;
  for (int64_t rows : log.batch_rows) run_rows += rows;
  EXPECT_EQ(run_rows, total_rows);
}

INSTANTIATE_TEST_SUITE_P(Instances, ConcurrentSubmitTest, ::testing::Values(1, 2));

TEST(ModelSchedulerTest, RunnerFactoryErrorFailsCreate) {
  std::atomic<int> made{0};
  RunLog log;
  BatchRunnerFactory factory = [&]() -> absl::StatusOr<std::unique_ptr<BatchRunner>> {
    if (made.fetch_add(1) == 1) return absl::ResourceExhaustedError("no memory for primitives");
    return std::make_unique<FakeRunner>(&log, absl::OkStatus());
  };
  SchedulerOptions options;
  options.batching.name = "m:1";
  options.instance_count = 3;
  auto scheduler = ModelScheduler::Create(factory, options);
  ASSERT_FALSE(scheduler.ok());
  EXPECT_EQ(scheduler.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(scheduler.status().message(), HasSubstr("no memory for primitives"));
  EXPECT_THAT(scheduler.status().message(), HasSubstr("m:1"));
  EXPECT_EQ(made.load(), 3);
}

TEST(ModelSchedulerTest, NullRunnerFailsCreateForExecutorsAndInlineRunners) {
  RunLog log;
  for (const int good_runners : {0, 1}) {  // the executor's runner, then the inline one
    SCOPED_TRACE(good_runners);
    std::atomic<int> made{0};
    BatchRunnerFactory factory = [&]() -> absl::StatusOr<std::unique_ptr<BatchRunner>> {
      if (made.fetch_add(1) < good_runners) {
        return std::make_unique<FakeRunner>(&log, absl::OkStatus());
      }
      return std::unique_ptr<BatchRunner>();
    };
    SchedulerOptions options;
    options.batching.name = "m:1";
    options.inline_max_rows = 1;
    auto scheduler = ModelScheduler::Create(factory, options);
    ASSERT_FALSE(scheduler.ok());
    EXPECT_EQ(scheduler.status().code(), absl::StatusCode::kInternal);
    EXPECT_THAT(scheduler.status().message(), HasSubstr("runner factory returned null"));
  }
}

TEST(ModelSchedulerTest, InvalidOptionsFailCreate) {
  RunLog log;
  SchedulerOptions options;
  options.batching.max_batch_size = 0;
  EXPECT_EQ(ModelScheduler::Create(Factory(&log), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.batching.max_batch_size = 8;
  options.instance_count = 0;
  EXPECT_EQ(ModelScheduler::Create(Factory(&log), options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ModelSchedulerTest, RunErrorReachesEveryRequestOfTheBatch) {
  RunLog log;
  RecordingObserver observer;
  SchedulerOptions options = BatchingOptions(&observer);
  options.batching.max_queue_delay = absl::Minutes(10);  // the batch forms at shutdown
  auto scheduler =
      ModelScheduler::Create(Factory(&log, absl::InternalError("engine exploded")), options);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  std::vector<Call> calls(5);
  for (size_t i = 0; i < calls.size(); ++i) {
    calls[i].id = static_cast<float>(i);
    calls[i].rows = 2;
    ASSERT_TRUE((*scheduler)->Submit(calls[i].MakeRequest()).ok());
  }
  scheduler->reset();
  for (Call& call : calls) {
    ASSERT_TRUE(call.Wait());
    EXPECT_EQ(call.status.code(), absl::StatusCode::kInternal);
    EXPECT_EQ(call.status.message(), "model 'm:1': engine exploded");
    EXPECT_EQ(call.calls.load(), 1);
  }
  EXPECT_EQ(observer.batches(), 1);
  EXPECT_EQ(observer.failed(), 1);
  EXPECT_EQ(observer.requests(), 5);
  EXPECT_EQ(observer.rows(), 10);
}

TEST(ModelSchedulerTest, DestructorAnswersEveryQueuedRequest) {
  RunLog log;
  RecordingObserver observer;
  SchedulerOptions options = BatchingOptions(&observer);
  options.batching.name = "x:1";
  options.batching.max_batch_size = 64;
  options.batching.max_queue_delay = absl::Minutes(10);  // nothing starts before shutdown
  options.batching.max_queue_size = 30;
  options.instance_count = 2;
  auto created = ModelScheduler::Create(Factory(&log), options);
  ASSERT_TRUE(created.ok()) << created.status();
  ModelScheduler* scheduler = created->get();

  // A Submit made while the destructor drains the queue (from a `done`,
  // which runs on an executor the destructor is waiting for) is refused.
  Call late;
  late.rows = 1;
  absl::Status late_status;

  std::vector<Call> calls(30);
  int64_t total_rows = 0;
  for (size_t i = 0; i < calls.size(); ++i) {
    calls[i].id = static_cast<float>(i);
    calls[i].rows = 1 + static_cast<int64_t>(i % 2);  // 45 rows: never a full batch
    total_rows += calls[i].rows;
    std::unique_ptr<InferRequest> request = calls[i].MakeRequest();
    if (i == 0) {
      request->done = [&, inner = std::move(request->done)](
                          absl::StatusOr<absl::Span<const float>> result,
                          const InferTiming& timing) mutable {
        late_status = scheduler->Submit(late.MakeRequest());
        inner(std::move(result), timing);
      };
    }
    ASSERT_TRUE(scheduler->Submit(std::move(request)).ok());
  }
  EXPECT_EQ(scheduler->queue_depth(), 30u);

  Call extra;
  extra.rows = 1;
  absl::Status full = scheduler->Submit(extra.MakeRequest());
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(full.message(), "model 'x:1' queue is full (30 requests)");

  created->reset();
  for (Call& call : calls) {
    ASSERT_TRUE(call.Wait()) << "request " << call.id << " lost";
    call.ExpectOwnRows();
    EXPECT_EQ(call.calls.load(), 1);
  }
  EXPECT_EQ(extra.calls.load(), 0);
  EXPECT_EQ(late.calls.load(), 0);
  EXPECT_EQ(late_status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(late_status.message(), "model 'x:1' is shutting down");
  EXPECT_EQ(observer.rows(), total_rows);
  EXPECT_EQ(observer.requests(), 30);
}

TEST(ModelSchedulerTest, ExpiredAndCancelledRequestsAreAnsweredWithoutCompute) {
  RunLog log;
  SchedulerOptions options = BatchingOptions(nullptr);
  options.batching.max_queue_delay = absl::ZeroDuration();
  auto scheduler = ModelScheduler::Create(Factory(&log), options);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();

  Call expired;
  expired.rows = 1;
  ASSERT_TRUE(
      (*scheduler)->Submit(expired.MakeRequest(Clock::Real()->Now() - absl::Seconds(1))).ok());
  Call cancelled;
  cancelled.rows = 1;
  auto request = cancelled.MakeRequest();
  request->is_cancelled = [] { return true; };
  ASSERT_TRUE((*scheduler)->Submit(std::move(request)).ok());

  ASSERT_TRUE(expired.Wait());
  EXPECT_EQ(expired.status.code(), absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(cancelled.Wait());
  EXPECT_EQ(cancelled.status.code(), absl::StatusCode::kCancelled);
  scheduler->reset();
  absl::MutexLock lock(&log.mu);
  EXPECT_TRUE(log.batch_rows.empty());
}

// A runner whose first run waits at a gate: the one executor stays busy,
// so nothing but the caller of CancelQueued can answer a queued request.
class GatedRunner : public BatchRunner {
 public:
  GatedRunner(RunLog* log, absl::Notification* entered, absl::Notification* release)
      : runner_(log, absl::OkStatus()), entered_(entered), release_(release) {}
  absl::StatusOr<absl::Span<const float>> Run(absl::Span<const absl::string_view> inputs,
                                              int64_t rows,
                                              BatchActivationCounts* counts) override {
    if (!entered_->HasBeenNotified()) entered_->Notify();
    release_->WaitForNotificationWithTimeout(kWait);
    return runner_.Run(inputs, rows, counts);
  }
  int64_t input_features() const override { return runner_.input_features(); }
  int64_t output_features() const override { return runner_.output_features(); }

 private:
  FakeRunner runner_;
  absl::Notification* const entered_;
  absl::Notification* const release_;
};

TEST(ModelSchedulerTest, CancelQueuedAnswersACancelledRequestAtOnce) {
  RunLog log;
  RecordingObserver observer;
  FakeClock clock;  // never advanced: the 10 minute delay never ends
  SchedulerOptions options = FakeClockBatchingOptions(&clock, absl::Minutes(10));
  options.observer = &observer;
  options.instance_count = 1;
  absl::Notification entered, release;
  auto scheduler = ModelScheduler::Create(
      [&]() -> absl::StatusOr<std::unique_ptr<BatchRunner>> {
        return std::make_unique<GatedRunner>(&log, &entered, &release);
      },
      options);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  // Outlive the scheduler: it answers the calls.
  Call busy, live, gave_up;
  absl::Cleanup stop = [&] {
    if (!release.HasBeenNotified()) release.Notify();
    scheduler->reset();  // answers whatever is still queued
  };
  // A full batch: starts at once and holds the executor.
  busy.id = 1;
  busy.rows = 32;
  ASSERT_TRUE((*scheduler)->Submit(busy.MakeRequest()).ok());
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(kWait));

  live.id = 2;
  live.rows = 2;
  gave_up.id = 3;
  gave_up.rows = 2;
  auto live_request = live.MakeRequest();
  live_request->id = 20;
  auto request = gave_up.MakeRequest();
  request->id = 30;
  ASSERT_TRUE((*scheduler)->Submit(std::move(live_request)).ok());
  ASSERT_TRUE((*scheduler)->Submit(std::move(request)).ok());
  EXPECT_EQ((*scheduler)->queue_depth(), 2u);

  (*scheduler)->CancelQueued(30);
  // Answered on this thread before CancelQueued returned, not at the end of
  // the delay and not by the (busy) executor.
  ASSERT_TRUE(gave_up.answered.HasBeenNotified());
  EXPECT_EQ(gave_up.status.code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(gave_up.status.message(), ::testing::HasSubstr("m:1"));
  EXPECT_EQ((*scheduler)->queue_depth(), 1u);
  EXPECT_EQ(observer.last_depth(), 1);
  EXPECT_FALSE(live.answered.HasBeenNotified());
  (*scheduler)->CancelQueued(30);  // already answered: no change
  (*scheduler)->CancelQueued(99);  // no such request: no change
  EXPECT_EQ((*scheduler)->queue_depth(), 1u);

  release.Notify();
  (*scheduler)->Drain();
  ASSERT_TRUE(busy.Wait());
  busy.ExpectOwnRows();
  ASSERT_TRUE(live.Wait());
  live.ExpectOwnRows();
  std::move(stop).Invoke();
  EXPECT_EQ(gave_up.calls.load(), 1);
  absl::MutexLock lock(&log.mu);
  EXPECT_EQ(log.batch_rows, (std::vector<int64_t>{32, 2}));  // the cancelled rows never ran
}

TEST(ModelSchedulerTest, DeadlinePassingWhileQueuedIsAnsweredBeforeTheDelay) {
  RunLog log;
  SchedulerOptions options = BatchingOptions(nullptr);
  options.batching.max_queue_delay = absl::Minutes(10);
  auto scheduler = ModelScheduler::Create(Factory(&log), options);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  Call call;
  call.rows = 1;
  ASSERT_TRUE(
      (*scheduler)->Submit(call.MakeRequest(Clock::Real()->Now() + absl::Milliseconds(20))).ok());
  // Bounded by kWait, far shorter than the 10 minute delay.
  ASSERT_TRUE(call.Wait());
  EXPECT_EQ(call.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ((*scheduler)->queue_depth(), 0u);
}

TEST(ModelSchedulerTest, MalformedRequestsAreRejectedAtSubmit) {
  RunLog log;
  auto scheduler = ModelScheduler::Create(Factory(&log), BatchingOptions(nullptr));
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  Call too_many_rows;
  too_many_rows.rows = 33;
  EXPECT_EQ((*scheduler)->Submit(too_many_rows.MakeRequest()).code(),
            absl::StatusCode::kInvalidArgument);
  Call no_rows;
  no_rows.rows = 0;
  EXPECT_EQ((*scheduler)->Submit(no_rows.MakeRequest()).code(), absl::StatusCode::kInvalidArgument);
  Call short_input;
  short_input.rows = 2;
  auto request = short_input.MakeRequest();
  request->input.remove_suffix(4);
  EXPECT_EQ((*scheduler)->Submit(std::move(request)).code(), absl::StatusCode::kInvalidArgument);
  scheduler->reset();
  EXPECT_EQ(too_many_rows.calls.load(), 0);
  EXPECT_EQ(no_rows.calls.load(), 0);
  EXPECT_EQ(short_input.calls.load(), 0);
}

TEST(ModelSchedulerTest, WithoutDynamicBatchingEachRequestRunsAloneAndIsSampled) {
  RunLog log;
  RecordingObserver observer;
  SchedulerOptions options;
  options.batching.name = "m:1";
  options.batching.max_batch_size = 8;
  options.activation_sample_every = 3;
  options.observer = &observer;
  auto scheduler = ModelScheduler::Create(Factory(&log), options);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  std::vector<Call> calls(9);
  for (size_t i = 0; i < calls.size(); ++i) {
    calls[i].id = static_cast<float>(i);
    calls[i].rows = 1 + static_cast<int64_t>(i % 3);
    ASSERT_TRUE((*scheduler)->Submit(calls[i].MakeRequest()).ok());
  }
  for (Call& call : calls) {
    ASSERT_TRUE(call.Wait());
    call.ExpectOwnRows();
    EXPECT_EQ(call.timing.batch_rows, call.rows);
  }
  scheduler->reset();
  EXPECT_EQ(observer.batches(), 9);
  EXPECT_EQ(observer.sampled(), 3);
  absl::MutexLock lock(&log.mu);
  EXPECT_THAT(log.batch_requests, Each(1u));
  EXPECT_EQ(log.sampled, 3);
}

TEST(ModelSchedulerTest, FakeClockDrivesTheQueueDelay) {
  RunLog log;
  FakeClock clock;
  auto scheduler = ModelScheduler::Create(Factory(&log),
                                          FakeClockBatchingOptions(&clock, absl::Milliseconds(50)));
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  Call call;
  call.id = 7;
  call.rows = 3;
  ASSERT_TRUE((*scheduler)->Submit(call.MakeRequest()).ok());
  EXPECT_FALSE(call.answered.HasBeenNotified());  // fake time has not moved
  clock.Advance(absl::Milliseconds(50));
  ASSERT_TRUE(call.Wait());
  call.ExpectOwnRows();
  EXPECT_EQ(call.timing.queue, absl::Milliseconds(50));
}

// The real clock is monotonic, but an injected one may go back: durations
// are clamped at zero rather than going negative.
TEST(ModelSchedulerTest, ClockGoingBackGivesZeroNotNegativeQueueTime) {
  RunLog log;
  FakeClock clock;
  auto scheduler =
      ModelScheduler::Create(Factory(&log), FakeClockBatchingOptions(&clock, absl::Minutes(10)));
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  Call call;
  call.id = 3;
  call.rows = 2;
  ASSERT_TRUE((*scheduler)->Submit(call.MakeRequest()).ok());
  clock.Advance(absl::Hours(-1));
  (*scheduler)->Drain();
  ASSERT_TRUE(call.Wait());
  call.ExpectOwnRows();
  EXPECT_EQ(call.timing.queue, absl::ZeroDuration());
  EXPECT_GE(call.timing.compute, absl::ZeroDuration());
}

TEST(ModelSchedulerTest, DrainStartsQueuedBatchesWithoutTheDelayAndKeepsServing) {
  RunLog log;
  FakeClock clock;  // never advanced: only Drain can start a batch
  auto scheduler =
      ModelScheduler::Create(Factory(&log), FakeClockBatchingOptions(&clock, absl::Minutes(10)));
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  std::vector<Call> queued(5);
  for (size_t i = 0; i < queued.size(); ++i) {
    queued[i].id = static_cast<float>(i);
    queued[i].rows = 2;
    ASSERT_TRUE((*scheduler)->Submit(queued[i].MakeRequest()).ok());
  }
  EXPECT_EQ((*scheduler)->queue_depth(), 5u);
  EXPECT_FALSE(queued[0].answered.HasBeenNotified());

  (*scheduler)->Drain();
  for (Call& call : queued) {
    ASSERT_TRUE(call.Wait()) << "request " << call.id << " still waits for the delay";
    call.ExpectOwnRows();
  }
  // Draining still accepts work, and runs it at once.
  Call late;
  late.id = 9;
  late.rows = 1;
  ASSERT_TRUE((*scheduler)->Submit(late.MakeRequest()).ok());
  ASSERT_TRUE(late.Wait());
  late.ExpectOwnRows();
  EXPECT_EQ(late.timing.queue, absl::ZeroDuration());
}

// Small requests run inline: answered on the submitting thread before Submit
// returns, only when the model does not wait to batch, nothing is queued and
// a spare runner is free.
class ThreadRecordingRunner : public FakeRunner {
 public:
  ThreadRecordingRunner(RunLog* log, std::vector<std::thread::id>* threads, absl::Mutex* mu)
      : FakeRunner(log, absl::OkStatus()), threads_(threads), mu_(mu) {}
  absl::StatusOr<absl::Span<const float>> Run(absl::Span<const absl::string_view> inputs,
                                              int64_t rows,
                                              BatchActivationCounts* counts) override {
    {
      absl::MutexLock lock(mu_);
      threads_->push_back(std::this_thread::get_id());
    }
    return FakeRunner::Run(inputs, rows, counts);
  }

 private:
  std::vector<std::thread::id>* threads_;
  absl::Mutex* mu_;
};

TEST(ModelSchedulerTest, SmallRequestsRunInlineOnlyWhenTheModelDoesNotWaitToBatch) {
  RunLog log;
  absl::Mutex mu;
  std::vector<std::thread::id> threads;
  RecordingObserver observer;
  auto factory = [&]() -> absl::StatusOr<std::unique_ptr<BatchRunner>> {
    return std::make_unique<ThreadRecordingRunner>(&log, &threads, &mu);
  };
  FakeClock clock;  // never advanced: inline requests spend exactly no time queued
  SchedulerOptions options;
  options.clock = &clock;
  options.batching.name = "inline:1";
  options.batching.max_batch_size = 8;
  options.inline_max_rows = 2;
  options.inline_runners = 1;
  options.activation_sample_every = 2;
  options.observer = &observer;
  auto scheduler = ModelScheduler::Create(factory, options);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();

  // Submit refuses what it could otherwise have run inline.
  Call no_rows;
  no_rows.rows = 0;
  EXPECT_EQ((*scheduler)->Submit(no_rows.MakeRequest()).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(no_rows.calls.load(), 0);

  std::vector<Call> small(3);
  for (size_t i = 0; i < small.size(); ++i) {
    small[i].id = static_cast<float>(i);
    small[i].rows = 2;
    ASSERT_TRUE((*scheduler)->Submit(small[i].MakeRequest()).ok());
    EXPECT_TRUE(small[i].answered.HasBeenNotified()) << "request " << i << " was not inline";
    small[i].ExpectOwnRows();
    EXPECT_EQ(small[i].timing.queue, absl::ZeroDuration());
  }
  Call large;
  large.id = 9;
  large.rows = 3;  // above inline_max_rows: an executor runs it
  ASSERT_TRUE((*scheduler)->Submit(large.MakeRequest()).ok());
  ASSERT_TRUE(large.Wait());
  large.ExpectOwnRows();
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(threads.size(), 4u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(threads[i], std::this_thread::get_id());
    EXPECT_NE(threads[3], std::this_thread::get_id());
  }
  // The executor reports its batch after answering it.
  for (absl::Time give_up = absl::Now() + kWait; observer.batches() < 4 && absl::Now() < give_up;) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(observer.batches(), 4);
  EXPECT_EQ(observer.sampled(), 2 + 1);  // inline batches 1 and 3, and the executor's first

  // With a queue delay the model waits to batch: nothing runs inline.
  SchedulerOptions batching = options;
  batching.batching.dynamic_batching = true;
  batching.batching.max_queue_delay = absl::Microseconds(100);
  batching.clock = Clock::Real();
  auto batched = ModelScheduler::Create(factory, batching);
  ASSERT_TRUE(batched.ok()) << batched.status();
  Call waits;
  waits.id = 4;
  waits.rows = 1;
  ASSERT_TRUE((*batched)->Submit(waits.MakeRequest()).ok());
  ASSERT_TRUE(waits.Wait());
  waits.ExpectOwnRows();
  absl::MutexLock lock(&mu);
  EXPECT_NE(threads.back(), std::this_thread::get_id());
}

// A request whose client already gave up is not computed inline: it is
// answered CANCELLED on the submitting thread, and its runner is free again.
TEST(ModelSchedulerTest, CancelledInlineRequestIsAnsweredWithoutRunning) {
  RunLog log;
  FakeClock clock;
  SchedulerOptions options;
  options.clock = &clock;
  options.batching.name = "inline:1";
  options.batching.max_batch_size = 8;
  options.inline_max_rows = 2;
  options.inline_runners = 1;
  auto scheduler = ModelScheduler::Create(Factory(&log), options);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();

  Call gave_up;
  gave_up.id = 1;
  gave_up.rows = 2;
  auto request = gave_up.MakeRequest();
  request->is_cancelled = [] { return true; };
  ASSERT_TRUE((*scheduler)->Submit(std::move(request)).ok());
  ASSERT_TRUE(gave_up.answered.HasBeenNotified());  // inline: before Submit returned
  EXPECT_EQ(gave_up.status.code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(gave_up.status.message(), HasSubstr("inline:1"));
  {
    absl::MutexLock lock(&log.mu);
    EXPECT_TRUE(log.batch_rows.empty());
  }
  // The one inline runner went back to the spares: the next request runs
  // inline too.
  Call next;
  next.id = 2;
  next.rows = 1;
  ASSERT_TRUE((*scheduler)->Submit(next.MakeRequest()).ok());
  ASSERT_TRUE(next.answered.HasBeenNotified());
  next.ExpectOwnRows();
  scheduler->reset();
  EXPECT_EQ(gave_up.calls.load(), 1);
  absl::MutexLock lock(&log.mu);
  EXPECT_EQ(log.batch_rows, (std::vector<int64_t>{1}));
}

TEST(ModelSchedulerTest, InvalidInlineOptionsFailCreate) {
  RunLog log;
  SchedulerOptions options;
  options.batching.name = "m:1";
  options.inline_max_rows = 1;
  options.inline_runners = 0;
  auto scheduler = ModelScheduler::Create(Factory(&log), options);
  EXPECT_EQ(scheduler.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlpserve

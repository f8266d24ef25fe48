#include "server/scheduler/model_scheduler.h"

#include <pthread.h>
#include <sys/prctl.h>

#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/scheduler/batch_execution.h"
#include "server/scheduler/batch_queue.h"

namespace mlpserve {
namespace {

// With a clock other than the real one (a FakeClock in tests) a wait in
// real time says nothing about when the clock reaches the wake-up time, so
// executors look at the clock again at least this often.
constexpr absl::Duration kOtherClockPoll = absl::Milliseconds(1);

absl::Status ValidateOptions(const BatchRunnerFactory& factory, const SchedulerOptions& options) {
  const std::string prefix = absl::StrCat("model '", options.batching.name, "': ");
  if (!factory) return absl::InvalidArgumentError(prefix + "no runner factory");
  if (options.clock == nullptr) return absl::InvalidArgumentError(prefix + "clock is null");
  if (options.instance_count < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "instance_count must be >= 1, got ", options.instance_count));
  }
  if (options.inline_max_rows < 0 || options.inline_runners < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "inline_max_rows must be >= 0 and inline_runners >= 1, got ",
                     options.inline_max_rows, " and ", options.inline_runners));
  }
  if (options.activation_sample_every < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, "activation_sample_every must be >= 0, got ", options.activation_sample_every));
  }
  return BatchQueue::Validate(options.batching);
}

class SchedulerImpl final : public ModelScheduler {
 public:
  SchedulerImpl(BatchRunnerFactory factory, const SchedulerOptions& options)
      : factory_(std::move(factory)), options_(options), queue_(options.batching) {}

  // Stops intake, lets the executors drain the queue, joins them.
  ~SchedulerImpl() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    work_cv_.SignalAll();
    for (std::thread& thread : threads_) thread.join();
  }

  // Starts the executors and waits until each has made its runner. On error
  // the caller destroys *this, which stops and joins them.
  absl::Status Start() {
    threads_.reserve(options_.instance_count);
    for (int i = 0; i < options_.instance_count; ++i) {
      threads_.emplace_back([this, i] { ExecutorMain(i); });
    }
    absl::MutexLock lock(&mu_);
    while (runners_reported_ < options_.instance_count) started_cv_.Wait(&mu_);
    if (!startup_status_.ok() || options_.inline_max_rows == 0) return startup_status_;
    for (int i = 0; i < options_.inline_runners; ++i) {
      absl::StatusOr<std::unique_ptr<BatchRunner>> runner = MakeRunner();
      if (!runner.ok()) {
        return absl::Status(runner.status().code(), absl::StrCat("model '", options_.batching.name,
                                                                 "': cannot make inline runner: ",
                                                                 runner.status().message()));
      }
      spare_runners_.push_back(
          std::make_unique<InlineRunner>(InlineRunner{*std::move(runner), {}}));
    }
    return absl::OkStatus();
  }

  absl::Status Submit(std::unique_ptr<InferRequest> request) override {
    if (absl::Status status = CheckRequest(request.get()); !status.ok()) return status;
    std::unique_ptr<InlineRunner> spare;
    bool sample = false;
    absl::Status pushed;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) {
        return absl::UnavailableError(
            absl::StrCat("model '", options_.batching.name, "' is shutting down"));
      }
      const absl::Time now = options_.clock->Now();
      if (CanRunInlineLocked(*request, now)) {
        spare = std::move(spare_runners_.back());
        spare_runners_.pop_back();
        sample = options_.activation_sample_every > 0 &&
                 inline_batches_++ % options_.activation_sample_every == 0;
        request->enqueue_time = now;
      } else {
        pushed = queue_.Push(std::move(request), now);
        PublishDepthLocked();
      }
    }
    if (spare != nullptr) {
      RunInline(std::move(request), std::move(spare), sample);
      return absl::OkStatus();
    }
    // Also after a refused Push: it may have swept cancelled requests out
    // for an executor to answer.
    work_cv_.Signal();
    return pushed;
  }

  void Drain() override {
    {
      absl::MutexLock lock(&mu_);
      draining_ = true;
    }
    work_cv_.SignalAll();
  }

  void CancelQueued(uint64_t id) override {
    std::vector<DroppedRequest> dropped;
    absl::Time now;
    {
      absl::MutexLock lock(&mu_);
      now = options_.clock->Now();
      std::optional<DroppedRequest> removed = queue_.Remove(id, now);
      if (!removed.has_value()) return;
      dropped.push_back(*std::move(removed));
      PublishDepthLocked();
    }
    AnswerDropped(std::move(dropped), now);
  }

  size_t queue_depth() const override {
    absl::MutexLock lock(&mu_);
    return queue_.size();
  }

 private:
  // A runner for inline requests, with the activation counts buffer it
  // reuses from run to run.
  struct InlineRunner {
    std::unique_ptr<BatchRunner> runner;
    BatchActivationCounts counts;
  };

  // factory_(), with a null runner turned into an error.
  absl::StatusOr<std::unique_ptr<BatchRunner>> MakeRunner() const {
    absl::StatusOr<std::unique_ptr<BatchRunner>> runner = factory_();
    if (runner.ok() && *runner == nullptr) {
      return absl::InternalError("runner factory returned null");
    }
    return runner;
  }

  absl::Status CheckRequest(const InferRequest* request) const {
    auto invalid = [this](auto&&... what) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", options_.batching.name, "': ", what...));
    };
    if (request == nullptr) return invalid("null request");
    if (!request->done) return invalid("request without done");
    if (request->rows < 1 || request->rows > options_.batching.max_batch_size) {
      return invalid("request has ", request->rows, " rows, must be in [1, ",
                     options_.batching.max_batch_size, "]");
    }
    // input_features_ is set before Create returns and never changes after.
    const int64_t expected = request->rows * input_features_ * 4;
    if (static_cast<int64_t>(request->input.size()) != expected) {
      return invalid("request input has ", request->input.size(), " bytes, expected ", expected,
                     " (", request->rows, " rows of ", input_features_, " FP32 features)");
    }
    return absl::OkStatus();
  }

  bool CanRunInlineLocked(const InferRequest& request, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const BatchQueueOptions& batching = options_.batching;
    return request.rows <= options_.inline_max_rows && !spare_runners_.empty() &&
           queue_.size() == 0 && request.deadline > now &&
           (!batching.dynamic_batching || batching.max_queue_delay == absl::ZeroDuration());
  }

  // Computes and answers `request` on the calling thread with `spare` (or,
  // when it reports cancellation, answers it CANCELLED without computing),
  // then returns the runner to the spares.
  void RunInline(std::unique_ptr<InferRequest> request, std::unique_ptr<InlineRunner> spare,
                 bool sample) {
    if (request->is_cancelled && request->is_cancelled()) {  // its client already gave up
      std::vector<DroppedRequest> dropped;
      dropped.push_back({std::move(request),
                         absl::CancelledError(absl::StrCat("model '", options_.batching.name,
                                                           "': request cancelled before it ran"))});
      AnswerDropped(std::move(dropped), options_.clock->Now());
      absl::MutexLock lock(&mu_);
      spare_runners_.push_back(std::move(spare));
      return;
    }
    const int64_t rows = request->rows;
    std::vector<std::unique_ptr<InferRequest>> batch;
    batch.push_back(std::move(request));
    const BatchReport report =
        ExecuteBatch(options_.batching.name, *spare->runner, *options_.clock, std::move(batch),
                     rows, sample ? &spare->counts : nullptr);
    // The observer is done with the counts when OnBatch returns; only then
    // may another request take the runner (and overwrite its counts).
    if (options_.observer != nullptr) options_.observer->OnBatch(report);
    absl::MutexLock lock(&mu_);
    spare_runners_.push_back(std::move(spare));
  }

  void ExecutorMain(int index) {
    const std::string thread_name = absl::StrCat(options_.batching.name, "/", index).substr(0, 15);
    pthread_setname_np(pthread_self(), thread_name.c_str());
    // The queue delay is a matter of microseconds; the kernel's default timer
    // slack (50 us) let every timed wait for it overrun by up to that much,
    // half of a 100 us max_queue_delay_microseconds.
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

    absl::StatusOr<std::unique_ptr<BatchRunner>> runner = MakeRunner();
    {
      absl::MutexLock lock(&mu_);
      if (!runner.ok() && startup_status_.ok()) {
        startup_status_ =
            absl::Status(runner.status().code(),
                         absl::StrCat("model '", options_.batching.name, "': cannot make executor ",
                                      index, ": ", runner.status().message()));
      } else if (runner.ok() && index == 0) {
        input_features_ = (*runner)->input_features();
      }
      ++runners_reported_;
    }
    started_cv_.Signal();
    if (runner.ok()) Serve(**runner);
  }

  // The executor loop: take a batch (or requests to drop), answer it outside
  // the lock, repeat; returns once stopping and the queue is empty.
  void Serve(BatchRunner& runner) {
    int64_t batches = 0;
    BatchActivationCounts counts;  // reused: the runner overwrites what it reports
    while (true) {
      BatchDecision decision;
      absl::Time now;
      bool more_queued = false;
      {
        absl::MutexLock lock(&mu_);
        while (true) {
          now = options_.clock->Now();
          decision = queue_.Next(now, stopping_ || draining_);
          if (!decision.batch.empty() || !decision.dropped.empty()) break;
          // Flushing answers every queued request, so the queue is empty.
          if (stopping_) return;
          WaitLocked(decision.wake_at, now);
        }
        more_queued = queue_.size() > 0;
        PublishDepthLocked();
      }
      if (more_queued) work_cv_.Signal();  // another idle executor may take the rest
      AnswerDropped(std::move(decision.dropped), now);
      if (decision.batch.empty()) continue;

      BatchActivationCounts* sample = nullptr;
      if (options_.activation_sample_every > 0 &&
          batches++ % options_.activation_sample_every == 0) {
        sample = &counts;
      }
      const BatchReport report = ExecuteBatch(options_.batching.name, runner, *options_.clock,
                                              std::move(decision.batch), decision.rows, sample);
      if (options_.observer != nullptr) options_.observer->OnBatch(report);
    }
  }

  // Publishes the queue depth under the lock, so that the last value the
  // observer sees is the queue's current size (two threads publishing
  // outside it could land in the opposite order and leave a stale gauge).
  void PublishDepthLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (options_.observer != nullptr) options_.observer->OnQueueDepth(queue_.size());
  }

  void WaitLocked(absl::Time wake_at, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (wake_at == absl::InfiniteFuture()) {  // empty queue: only Submit changes that
      work_cv_.Wait(&mu_);
      return;
    }
    absl::Duration timeout = wake_at - now;
    if (options_.clock != Clock::Real()) timeout = std::min(timeout, kOtherClockPoll);
    work_cv_.WaitWithTimeout(&mu_, timeout);
  }

  const BatchRunnerFactory factory_;
  const SchedulerOptions options_;
  // Written by executor 0 before it reports, read after Create returns.
  int64_t input_features_ = 0;

  mutable absl::Mutex mu_;
  absl::CondVar work_cv_;     // the queue changed, or drain or shutdown began
  absl::CondVar started_cv_;  // an executor made its runner, or failed to
  BatchQueue queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;  // Drain() was called
  int runners_reported_ ABSL_GUARDED_BY(mu_) = 0;
  // Inline runners not in use (see inline_max_rows).
  std::vector<std::unique_ptr<InlineRunner>> spare_runners_ ABSL_GUARDED_BY(mu_);
  int64_t inline_batches_ ABSL_GUARDED_BY(mu_) = 0;  // for activation sampling
  absl::Status startup_status_ ABSL_GUARDED_BY(mu_);
  // Touched only by Start and the destructor.
  std::vector<std::thread> threads_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ModelScheduler>> ModelScheduler::Create(
    BatchRunnerFactory runner_factory, const SchedulerOptions& options) {
  if (absl::Status status = ValidateOptions(runner_factory, options); !status.ok()) {
    return status;
  }
  auto scheduler = std::make_unique<SchedulerImpl>(std::move(runner_factory), options);
  if (absl::Status status = scheduler->Start(); !status.ok()) return status;
  return std::unique_ptr<ModelScheduler>(std::move(scheduler));
}

}  // namespace mlpserve

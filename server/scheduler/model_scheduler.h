// Per-model-version request scheduler: a queue, batch formation, and a fixed
// pool of executor threads each owning a BatchRunner (the engine's
// ExecutionContext in production).
//
// How batches form is BatchQueue's policy (batch_queue.h); this class adds
// the threads that act on it. Requests whose deadline has passed, or that
// report cancellation, are answered without being computed.
//
// Thread-safety: Submit and the accessors are thread-safe and never wait for
// a queue or for another request's computation (Submit may compute a small
// request itself, see SchedulerOptions::inline_max_rows). The destructor stops intake, answers
// every queued request (runs it if it can still be computed) and joins the executors; it must not
// run on an executor thread.
#ifndef MLPSERVE_SERVER_SCHEDULER_MODEL_SCHEDULER_H_
#define MLPSERVE_SERVER_SCHEDULER_MODEL_SCHEDULER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/engine/batch_runner.h"
#include "server/scheduler/batch_observer.h"
#include "server/scheduler/batch_queue.h"
#include "server/scheduler/infer_request.h"

namespace mlpserve {

struct SchedulerOptions {
  // Batch formation: model name ("model:version", also used in thread names
  // and errors), max_batch_size (also the per-request limit), dynamic
  // batching, queue delay, preferred sizes, queue bound. See batch_queue.h.
  BatchQueueOptions batching;
  // Executor threads, each with its own ExecutionContext. Default 1.
  int instance_count = 1;
  // Observe activation signs on one batch in this many; 0 never.
  int activation_sample_every = 1;
  // Time source for delays and deadlines; not owned; default the real clock.
  // With any other clock (a FakeClock in tests) a waiting executor reads the
  // clock again at least every millisecond of real time, so advancing it
  // takes effect promptly.
  Clock* clock = Clock::Real();
  // Told about every executed batch; not owned; may be null. Must outlive
  // the scheduler.
  BatchObserver* observer = nullptr;
  // Requests of at most this many rows run on the submitting thread (Submit
  // computes and answers them before it returns) when nothing is queued,
  // the model does not wait to form batches (no dynamic batching, or a zero
  // queue delay) and one of `inline_runners` spare runners is free; else
  // they are queued as usual. For models whose compute is a few
  // microseconds, where handing the request to an executor thread and the
  // answer back costs more than computing it. 0: never (default).
  int64_t inline_max_rows = 0;
  // Spare runners for inline requests (made by Create on its thread when
  // inline_max_rows > 0); at most this many inline requests run at once.
  int inline_runners = 2;
};

class ModelScheduler {
 public:
  // Starts options.instance_count executors; each makes its runner with
  // `runner_factory` on its own thread before serving. An error from the
  // factory fails Create (no executor is left running); so do invalid
  // options (INVALID_ARGUMENT: max_batch_size < 1, instance_count < 1,
  // negative delay, preferred sizes not ascending within max_batch_size).
  // A preferred size starts a batch when a FIFO prefix of whole requests has
  // exactly that many rows (the longest such prefix is taken).
  static absl::StatusOr<std::unique_ptr<ModelScheduler>> Create(BatchRunnerFactory runner_factory,
                                                                const SchedulerOptions& options);
  virtual ~ModelScheduler() = default;

  // Queues `request`. RESOURCE_EXHAUSTED when the queue is full and
  // UNAVAILABLE after shutdown began, returned at once; INVALID_ARGUMENT for
  // a malformed request (no `done`, rows outside [1, max_batch_size], input
  // not rows * input_features * 4 bytes). On error `request->done` is never
  // called. OK: `done` will be called exactly once, on an executor thread or,
  // for a request run inline, on this thread before Submit returns.
  virtual absl::Status Submit(std::unique_ptr<InferRequest> request) = 0;

  // From now on batches start without waiting for the queue delay, so the
  // requests already accepted complete promptly (server shutdown). Intake
  // goes on; idempotent.
  virtual void Drain() = 0;

  // The call of the request with InferRequest::id `id` (non-zero) was
  // cancelled (its client gave up, or its deadline passed): if that request
  // is still queued, it is taken out and answered CANCELLED
  // (DEADLINE_EXCEEDED when its deadline has passed) now, on the calling
  // thread, without waiting for the queue delay or a free executor. No
  // other request is looked at beyond comparing ids (no is_cancelled()
  // call), so a storm of cancellations costs no callbacks. A request
  // already in a batch, answered, or never queued is not affected.
  // Thread-safe; does not wait for a batch; call it without holding
  // anything a request's `done` takes (gRPC's OnCancel).
  virtual void CancelQueued(uint64_t id) = 0;

  // Requests waiting for a batch (not counting those computing).
  virtual size_t queue_depth() const = 0;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_SCHEDULER_MODEL_SCHEDULER_H_

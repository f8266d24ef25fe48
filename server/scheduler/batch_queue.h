// The batching policy of one model version, separated from the threads that
// act on it so that it can be tested with an injected time and no sleeps.
//
// A BatchQueue holds queued requests in FIFO order and, asked with the
// current time, answers either "here is the next batch" or "nothing is ready;
// look again at time T" (T may be absl::InfiniteFuture(): wait for a new
// request). Rules applied by Next():
//
//  * A batch is a FIFO prefix of whole requests (a request is never split)
//    of at most max_batch_size rows.
//  * Without dynamic batching every request is a batch of its own, at once.
//  * With it, the candidate batch is the longest prefix that fits
//    max_batch_size. It starts
//      - when full: its rows equal max_batch_size, or the next queued request
//        does not fit;
//      - when the oldest request has waited max_queue_delay (so at once when
//        the delay is 0: Next() is only asked by an idle executor);
//      - when a prefix of it has exactly a preferred batch size: then the
//        batch is the longest such prefix (Triton's rule), and the rest waits;
//      - at once when `flush` is true (shutdown drains the queue).
//  * Requests whose deadline is <= now are removed wherever they are in the
//    queue and returned as dropped with DEADLINE_EXCEEDED; requests at the
//    head whose is_cancelled() answers true are returned as dropped with
//    CANCELLED. Neither is computed. The wake-up time also considers the
//    earliest queued deadline, so an expiring request is answered promptly.
//  * When the queue is full, Push first sweeps cancelled requests out of it
//    wherever they are (at most once per kCancelledSweepInterval), so that
//    callers who gave up do not keep live ones out; the next Next() returns
//    them as dropped with CANCELLED.
//  * Remove(id) takes out the one request with that InferRequest::id,
//    wherever it is (the owner calls it when it learns that the request's
//    call was cancelled), comparing ids only: no is_cancelled() call.
//
// Thread-safety: none. The owner (ModelScheduler) serializes every call
// under its own mutex; is_cancelled() is called from Next() and, when the
// queue is full, from Push().
#ifndef MLPSERVE_SERVER_SCHEDULER_BATCH_QUEUE_H_
#define MLPSERVE_SERVER_SCHEDULER_BATCH_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/scheduler/infer_request.h"

namespace mlpserve {

struct BatchQueueOptions {
  // "model:version", used in error messages.
  std::string name;
  // Rows per batch, at most; >= 1. Default 64.
  int64_t max_batch_size = 64;
  // false: every request is a batch of its own (FIFO, no delay).
  bool dynamic_batching = false;
  // How long the oldest request may wait for the batch to fill; >= 0.
  absl::Duration max_queue_delay = absl::ZeroDuration();
  // Strictly ascending, each in [1, max_batch_size]. May be empty.
  std::vector<int64_t> preferred_batch_sizes;
  // Queued requests beyond which Push answers RESOURCE_EXHAUSTED.
  size_t max_queue_size = 1024;
};

// A request removed without being computed, with the status to answer it.
struct DroppedRequest {
  std::unique_ptr<InferRequest> request;
  absl::Status status;
};

// The answer of BatchQueue::Next().
struct BatchDecision {
  // The batch to run now, in FIFO order; empty when nothing is ready.
  std::vector<std::unique_ptr<InferRequest>> batch;
  int64_t rows = 0;  // sum of batch[i]->rows
  // Expired or cancelled requests to answer without computing.
  std::vector<DroppedRequest> dropped;
  // Meaningful when `batch` is empty: when to ask again at the latest.
  // InfiniteFuture() when the queue is empty (wait for a new request).
  absl::Time wake_at = absl::InfiniteFuture();
};

class BatchQueue {
 public:
  // Checks the options; INVALID_ARGUMENT names the model and the field.
  static absl::Status Validate(const BatchQueueOptions& options);

  // `options` must pass Validate().
  explicit BatchQueue(BatchQueueOptions options);

  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  static constexpr absl::Duration kCancelledSweepInterval = absl::Milliseconds(1);

  // Appends `request` and sets its enqueue_time to `now`. INVALID_ARGUMENT
  // unless 1 <= rows <= max_batch_size; RESOURCE_EXHAUSTED when
  // max_queue_size requests are queued (after sweeping out cancelled ones,
  // see above). On error the request is destroyed without its `done` being
  // run.
  absl::Status Push(std::unique_ptr<InferRequest> request, absl::Time now);

  // Removes and returns the next batch if one is ready at `now` (see the
  // rules above), plus any expired or cancelled requests. `flush`: start a
  // batch from whatever is queued, without waiting.
  BatchDecision Next(absl::Time now, bool flush);

  // Removes the queued request whose InferRequest::id is `id` (non-zero)
  // and returns it with DEADLINE_EXCEEDED when its deadline is at or before
  // `now` (gRPC cancels a call whose deadline passed, too), else CANCELLED;
  // nullopt when no queued request has that id. O(queue size) id
  // comparisons.
  std::optional<DroppedRequest> Remove(uint64_t id, absl::Time now);

  // Requests queued.
  size_t size() const { return queue_.size(); }
  bool empty() const { return queue_.empty(); }

 private:
  static bool IsCancelled(const InferRequest& request);
  absl::Status CancelledWhileQueued() const;
  // Moves every queued request for which drop_status returns a status to
  // `dropped` with that status, keeping the order of the rest.
  template <typename DropStatus>
  void RemoveIf(DropStatus drop_status, std::vector<DroppedRequest>* dropped);
  // Moves every cancelled request to swept_.
  void SweepCancelled();
  // Moves every request with deadline <= now to `dropped`.
  void RemoveExpired(absl::Time now, std::vector<DroppedRequest>* dropped);
  absl::Status Expired(const InferRequest& request, absl::Time now) const;
  void ForgetDeadline(const InferRequest& request);
  bool IsPreferred(int64_t rows) const;
  absl::Time EarliestDeadline() const;

  const BatchQueueOptions options_;
  std::deque<std::unique_ptr<InferRequest>> queue_;
  // Finite deadlines of the queued requests, for the wake-up time.
  std::multiset<absl::Time> deadlines_;
  // Swept out by Push, answered by the next Next().
  std::vector<DroppedRequest> swept_;
  absl::Time last_sweep_ = absl::InfinitePast();
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_SCHEDULER_BATCH_QUEUE_H_

#include "server/scheduler/batch_queue.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mlpserve {
namespace {

absl::Status Invalid(const BatchQueueOptions& options, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("model '", options.name, "': ", what));
}

}  // namespace

absl::Status BatchQueue::Validate(const BatchQueueOptions& options) {
  if (options.max_batch_size < 1) {
    return Invalid(options,
                   absl::StrCat("max_batch_size must be >= 1, got ", options.max_batch_size));
  }
  if (options.max_queue_delay < absl::ZeroDuration() ||
      options.max_queue_delay == absl::InfiniteDuration()) {
    return Invalid(options, absl::StrCat("max_queue_delay must be finite and >= 0, got ",
                                         absl::FormatDuration(options.max_queue_delay)));
  }
  if (options.max_queue_size < 1) {
    return Invalid(options, "max_queue_size must be >= 1");
  }
  int64_t previous = 0;
  for (int64_t size : options.preferred_batch_sizes) {
    if (size <= previous || size > options.max_batch_size) {
      return Invalid(options,
                     absl::StrCat("preferred_batch_sizes [",
                                  absl::StrJoin(options.preferred_batch_sizes, ", "),
                                  "] must be strictly ascending, each in [1, max_batch_size=",
                                  options.max_batch_size, "]"));
    }
    previous = size;
  }
  return absl::OkStatus();
}

BatchQueue::BatchQueue(BatchQueueOptions options) : options_(std::move(options)) {}

absl::Status BatchQueue::Push(std::unique_ptr<InferRequest> request, absl::Time now) {
  if (request->rows < 1 || request->rows > options_.max_batch_size) {
    return absl::InvalidArgumentError(absl::StrCat("model '", options_.name, "': request has ",
                                                   request->rows, " rows, must be in [1, ",
                                                   options_.max_batch_size, "]"));
  }
  if (queue_.size() >= options_.max_queue_size && now - last_sweep_ >= kCancelledSweepInterval) {
    last_sweep_ = now;
    SweepCancelled();
  }
  if (queue_.size() >= options_.max_queue_size) {
    return absl::ResourceExhaustedError(absl::StrCat("model '", options_.name, "' queue is full (",
                                                     options_.max_queue_size, " requests)"));
  }
  request->enqueue_time = now;
  if (request->deadline != absl::InfiniteFuture()) deadlines_.insert(request->deadline);
  queue_.push_back(std::move(request));
  return absl::OkStatus();
}

BatchDecision BatchQueue::Next(absl::Time now, bool flush) {
  BatchDecision decision;
  decision.dropped = std::move(swept_);
  swept_.clear();
  if (!deadlines_.empty() && *deadlines_.begin() <= now) RemoveExpired(now, &decision.dropped);

  // Measure the candidate batch in place: the longest prefix of live
  // requests that fits, dropping cancelled ones on the way. Nothing else
  // moves until the batch is known to start (a wake-up before the delay
  // ends takes nothing off the queue).
  size_t count = 0;  // requests in the candidate batch: queue_[0, count)
  int64_t rows = 0;
  size_t preferred_prefix = 0;  // requests in the longest preferred-size prefix
  int64_t preferred_rows = 0;
  bool full = false;
  while (count < queue_.size()) {
    std::unique_ptr<InferRequest>& request = queue_[count];
    if (IsCancelled(*request)) {
      ForgetDeadline(*request);
      decision.dropped.push_back({std::move(request), CancelledWhileQueued()});
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(count));
      continue;
    }
    if (rows + request->rows > options_.max_batch_size) {
      full = true;
      break;
    }
    rows += request->rows;
    ++count;
    if (IsPreferred(rows)) {
      preferred_prefix = count;
      preferred_rows = rows;
    }
    if (!options_.dynamic_batching) break;
    if (rows == options_.max_batch_size) {
      full = true;
      break;
    }
  }
  if (count == 0) {
    decision.wake_at = EarliestDeadline();
    return decision;
  }

  const absl::Time delay_end = queue_.front()->enqueue_time + options_.max_queue_delay;
  size_t take = 0;
  if (!options_.dynamic_batching || full || flush || now >= delay_end) {
    take = count;
  } else if (preferred_prefix > 0) {
    take = preferred_prefix;
    rows = preferred_rows;
  }
  if (take == 0) {
    decision.wake_at = std::min(delay_end, EarliestDeadline());
    return decision;
  }
  std::vector<std::unique_ptr<InferRequest>> candidate;
  candidate.reserve(take);
  for (size_t i = 0; i < take; ++i) {
    candidate.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  for (const auto& request : candidate) ForgetDeadline(*request);
  decision.batch = std::move(candidate);
  decision.rows = rows;
  return decision;
}

std::optional<DroppedRequest> BatchQueue::Remove(uint64_t id, absl::Time now) {
  if (id == 0) return std::nullopt;
  auto it = std::find_if(queue_.begin(), queue_.end(),
                         [id](const std::unique_ptr<InferRequest>& r) { return r->id == id; });
  if (it == queue_.end()) return std::nullopt;
  std::unique_ptr<InferRequest> request = std::move(*it);
  queue_.erase(it);
  ForgetDeadline(*request);
  absl::Status status = request->deadline <= now ? Expired(*request, now) : CancelledWhileQueued();
  return DroppedRequest{std::move(request), std::move(status)};
}

bool BatchQueue::IsCancelled(const InferRequest& request) {
  return request.is_cancelled && request.is_cancelled();
}

absl::Status BatchQueue::CancelledWhileQueued() const {
  return absl::CancelledError(
      absl::StrCat("model '", options_.name, "': request cancelled while queued"));
}

template <typename DropStatus>
void BatchQueue::RemoveIf(DropStatus drop_status, std::vector<DroppedRequest>* dropped) {
  // Compacts in place: nothing is allocated or moved when nothing is dropped.
  size_t kept = 0;
  for (size_t i = 0; i < queue_.size(); ++i) {
    std::unique_ptr<InferRequest>& request = queue_[i];
    if (std::optional<absl::Status> status = drop_status(*request)) {
      ForgetDeadline(*request);
      dropped->push_back({std::move(request), *std::move(status)});
    } else {
      if (kept != i) queue_[kept] = std::move(request);
      ++kept;
    }
  }
  queue_.resize(kept);
}

void BatchQueue::SweepCancelled() {
  RemoveIf(
      [this](const InferRequest& request) -> std::optional<absl::Status> {
        if (!IsCancelled(request)) return std::nullopt;
        return CancelledWhileQueued();
      },
      &swept_);
}

void BatchQueue::RemoveExpired(absl::Time now, std::vector<DroppedRequest>* dropped) {
  RemoveIf(
      [this, now](const InferRequest& request) -> std::optional<absl::Status> {
        if (request.deadline > now) return std::nullopt;
        return Expired(request, now);
      },
      dropped);
}

absl::Status BatchQueue::Expired(const InferRequest& request, absl::Time now) const {
  return absl::DeadlineExceededError(
      absl::StrCat("model '", options_.name, "': deadline exceeded after ",
                   absl::FormatDuration(now - request.enqueue_time), " in queue"));
}

void BatchQueue::ForgetDeadline(const InferRequest& request) {
  if (request.deadline == absl::InfiniteFuture()) return;
  auto it = deadlines_.find(request.deadline);
  if (it != deadlines_.end()) deadlines_.erase(it);
}

bool BatchQueue::IsPreferred(int64_t rows) const {
  return std::binary_search(options_.preferred_batch_sizes.begin(),
                            options_.preferred_batch_sizes.end(), rows);
}

absl::Time BatchQueue::EarliestDeadline() const {
  return deadlines_.empty() ? absl::InfiniteFuture() : *deadlines_.begin();
}

}  // namespace mlpserve

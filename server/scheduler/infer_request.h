// One decoded inference request on its way through the scheduler.
//
// Ownership: the rpc layer creates it and hands it to ModelScheduler::Submit
// as a unique_ptr; from then on the scheduler owns it and calls `done`
// exactly once, on an executor thread or, for a small request run inline,
// inside Submit (if Submit fails, never: Submit returns the error instead).
// The input bytes are a view on the gRPC request message, which the rpc layer
// keeps alive until `done` has run.
#ifndef MLPSERVE_SERVER_SCHEDULER_INFER_REQUEST_H_
#define MLPSERVE_SERVER_SCHEDULER_INFER_REQUEST_H_

#include <cstdint>
#include <functional>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace mlpserve {

// What the scheduler reports back with a successful result.
struct InferTiming {
  absl::Duration queue;    // enqueue -> batch start, or -> dropped from the queue
  absl::Duration compute;  // the batch's engine run
  int64_t batch_rows = 0;  // rows in the batch this request ran in
};

struct InferRequest {
  // Rows in `input`: 1 <= rows <= max_batch_size (checked by the rpc layer).
  int64_t rows = 0;
  // rows * input_features little-endian FP32 values, row-major.
  absl::string_view input;
  // When the client stops waiting; absl::InfiniteFuture() if never.
  absl::Time deadline = absl::InfiniteFuture();
  // Polled before the request is put into a batch or run inline, and for
  // every queued request when Push finds the queue full; true drops it with
  // CANCELLED. May be empty.
  std::function<bool()> is_cancelled;
  // Names the request to ModelScheduler::CancelQueued (which the rpc layer
  // calls from the call's OnCancel). A non-zero id must not be another
  // request's from Submit until the request is answered and, after that,
  // until the last CancelQueued with it (the rpc layer uses the call's
  // reactor's address: the reactor outlives both); 0: not cancellable by id.
  uint64_t id = 0;
  // Called exactly once with the request's [rows, output_features] result
  // (valid only during the call) or with the error that ended it:
  // DEADLINE_EXCEEDED, CANCELLED, UNAVAILABLE (scheduler shut down), or an
  // engine error. Must not block.
  absl::AnyInvocable<void(absl::StatusOr<absl::Span<const float>> output,
                          const InferTiming& timing)>
      done;

  // Set by the scheduler at Submit.
  absl::Time enqueue_time;
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_SCHEDULER_INFER_REQUEST_H_

// Running one formed batch and answering its requests: the part of an
// executor's loop that happens outside the scheduler's lock.
//
// Thread-safety: the functions touch only their arguments; call ExecuteBatch
// on the one thread using `runner` at the time (an executor, or the
// submitting thread for an inline request, see model_scheduler.h).
#ifndef MLPSERVE_SERVER_SCHEDULER_BATCH_EXECUTION_H_
#define MLPSERVE_SERVER_SCHEDULER_BATCH_EXECUTION_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/common/clock.h"
#include "server/engine/activation_counts.h"
#include "server/engine/batch_runner.h"
#include "server/scheduler/batch_observer.h"
#include "server/scheduler/batch_queue.h"
#include "server/scheduler/infer_request.h"

namespace mlpserve {

// Runs `batch` (whole requests, `rows` rows in total) on `runner` as one
// engine call, then calls every request's `done` exactly once, in batch
// order: with its own rows of the output, or, if the run failed or returned
// a result of the wrong size, with that error (its message begins "model
// '<model_name>': "). `counts` (may be null) receives the activation sign
// counts. Returns the report for the observer; its `activations` is
// `counts` when the run succeeded and `counts` was given, else null.
BatchReport ExecuteBatch(absl::string_view model_name, BatchRunner& runner, Clock& clock,
                         std::vector<std::unique_ptr<InferRequest>> batch, int64_t rows,
                         BatchActivationCounts* counts);

// Calls `done` of every dropped request with its status (timing.queue is
// the time it spent queued until `now`).
void AnswerDropped(std::vector<DroppedRequest> dropped, absl::Time now);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_SCHEDULER_BATCH_EXECUTION_H_

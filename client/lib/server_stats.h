// The server's side of a perf level, as perf_analyzer's "Server:" section:
// the difference of two ModelStatistics answers taken at the start and the
// end of the level's measured window (PerfRunner::WindowHooks),
// turned into per-request means of where the server spent each request's
// time (queue, compute input, compute infer, compute output, and the rest of
// its receipt-to-response time).
#ifndef MLPSERVE_CLIENT_LIB_SERVER_STATS_H_
#define MLPSERVE_CLIENT_LIB_SERVER_STATS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "proto/inference.pb.h"

namespace mlpserve::client {

struct ServerSideStats {
  // Between the two answers: successful requests (every request the server
  // answered OK in the window; not the warm-up, and of the drain only what
  // the server had answered when the window ended), rows computed and
  // batches executed.
  uint64_t requests = 0;
  uint64_t inferences = 0;
  uint64_t executions = 0;
  // Means per successful request, in microseconds: receipt to response, and
  // its parts (ModelStatistics' queue, compute_input, compute_infer and
  // compute_output); `other_us` is what the parts leave of `request_us`
  // (gRPC handler, bookkeeping), at least 0. All 0 when requests is 0.
  double request_us = 0;
  double queue_us = 0;
  double compute_input_us = 0;
  double compute_infer_us = 0;
  double compute_output_us = 0;
  double other_us = 0;
};

// The change from `before` to `after` of model `model`, summed over its
// versions (a version only in `after` counts from zero; one only in `before`,
// unloaded meanwhile, is left out). INVALID_ARGUMENT when a counter of a
// version went down (the version was reloaded in between: its statistics
// restarted, so the difference means nothing).
absl::StatusOr<ServerSideStats> ServerSideDelta(const inference::ModelStatisticsResponse& before,
                                                const inference::ModelStatisticsResponse& after,
                                                const std::string& model);

}  // namespace mlpserve::client

#endif  // MLPSERVE_CLIENT_LIB_SERVER_STATS_H_

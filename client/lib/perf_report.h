// Presenting PerfRunner results: the human table, the --json document and
// the progress line, plus parsing of duration flags ("10s", "500ms").
#ifndef MLPSERVE_CLIENT_LIB_PERF_REPORT_H_
#define MLPSERVE_CLIENT_LIB_PERF_REPORT_H_

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/lib/perf_runner.h"
#include "nlohmann/json.hpp"

namespace mlpserve::client {

// What was measured, echoed in reports.
struct PerfContext {
  std::string target;
  std::string rpc;    // "infer" or "live".
  std::string model;  // Empty for "live".
  int64_t batch = 0;  // Rows per request; 0 for "live".
};

// absl::ParseDuration syntax ("10s", "500ms", "1.5ms", "250us", "1m30s"),
// kept to the nanosecond; a bare number means seconds. Errors on a negative
// or unparsable value, or one beyond int64 nanoseconds (~292 years), naming
// `flag`.
absl::StatusOr<std::chrono::nanoseconds> ParseDurationFlag(absl::string_view text,
                                                           absl::string_view flag);

// A fixed-width table, one line per level (ok, errors, req/s and latency of
// the requests completed inside the level's window; "-" for the latencies
// of a level without a successful request in its window), then, in this
// order: a "server at" line per level with server-side figures (OK
// requests, rows and batches, and the mean request's time split into queue,
// compute input, infer, output and other); an "errors at" line per level
// with errors or unsent requests listing them by gRPC status code name and
// NOT_SENT(max in-flight) / NOT_SENT(pacer behind); a "late at" line per
// open-loop level with requests sent more than 1 ms after they were due; an
// "aborted at" line for a level cut short as unreachable; and an "after the
// window at" line per level whose drain (requests completed after the
// window) had errors or a request slower than every one inside the window.
std::string FormatPerfTable(const PerfContext& context, const std::vector<LevelResult>& levels);

// {"target", "rpc", "model", "batch", "levels": [{"concurrency", "request_rate",
//  "sent", "successes", "errors", "errors_by_code": {...}, "not_sent",
//  "not_sent_max_in_flight", "not_sent_late", "sent_late", "max_send_lag_ms",
//  "unreachable",
//  "elapsed_s", "requests_per_s", "rows_per_s", "warmup_requests",
//  "client_cpu_s", "latency_ms": {"mean", "p50", "p90", "p99", "p99.9", "min",
//  "max"} (each null when no request succeeded in the window), "drain": {"successes", "errors",
//  "errors_by_code": {...}, "seconds", "max_latency_ms"}, "server": null or {"requests",
//  "inferences", "executions", "request_us", "queue_us", "compute_input_us", "compute_infer_us",
//  "compute_output_us", "other_us"}}]}
// as LevelResult documents them: successes, errors and latency_ms are of the
// window of elapsed_s seconds; "drain" holds what completed after it; sent =
// successes + errors + drain's successes + errors.
nlohmann::json PerfReportJson(const PerfContext& context, const std::vector<LevelResult>& levels);

// One progress line (no newline) for `label`, e.g. "c=16": successful
// requests so far and per second since `previous` (the table's req/s counts
// successes only too), errors so far, requests in flight.
std::string FormatProgress(absl::string_view label, const PerfProgress& progress,
                           const PerfProgress& previous);

}  // namespace mlpserve::client

#endif  // MLPSERVE_CLIENT_LIB_PERF_REPORT_H_

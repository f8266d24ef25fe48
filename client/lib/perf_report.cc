#include "client/lib/perf_report.h"

#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace mlpserve::client {
namespace {

std::string LevelLabel(const LevelSpec& spec) {
  if (spec.request_rate > 0) return absl::StrFormat("rate %g/s", spec.request_rate);
  return absl::StrCat(spec.concurrency);
}

// A latency for the table: milliseconds, or "-" when there was no sample.
std::string Ms(const LatencySummary& l, double ms) {
  return l.count > 0 ? absl::StrFormat("%.3f", ms) : "-";
}

// A latency for --json: null when there was no sample.
nlohmann::json MsJson(const LatencySummary& l, double ms) {
  return l.count > 0 ? nlohmann::json(ms) : nlohmann::json(nullptr);
}

}  // namespace

absl::StatusOr<std::chrono::nanoseconds> ParseDurationFlag(absl::string_view text,
                                                           absl::string_view flag) {
  std::string spelled(text);
  double seconds = 0;
  if (absl::SimpleAtod(spelled, &seconds)) spelled += "s";
  absl::Duration d;
  if (!absl::ParseDuration(spelled, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": '", text, "' is not a duration (e.g. 10s, 500ms, 2m)"));
  }
  // ToInt64Nanoseconds saturates; refuse rather than clamp.
  if (d >= absl::Nanoseconds(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": '", text, "' is out of range"));
  }
  return std::chrono::nanoseconds(absl::ToInt64Nanoseconds(d));
}

std::string FormatPerfTable(const PerfContext& context, const std::vector<LevelResult>& levels) {
  std::string out =
      absl::StrFormat("# %s %s%s%s\n", context.target, context.rpc,
                      context.model.empty() ? "" : " model=" + context.model,
                      context.batch > 0 ? absl::StrCat(" batch=", context.batch) : "");
  absl::StrAppendFormat(&out, "%-12s %10s %11s %8s %8s %8s %9s %8s %9s %7s\n", "concurrency",
                        "req/s", "rows/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "ok",
                        "errors");
  for (const LevelResult& r : levels) {
    const LatencySummary& l = r.latency;
    absl::StrAppendFormat(&out, "%-12s %10.1f %11.1f %8s %8s %8s %9s %8s %9d %7d\n",
                          LevelLabel(r.spec), r.requests_per_s, r.rows_per_s, Ms(l, l.p50_ms),
                          Ms(l, l.p90_ms), Ms(l, l.p99_ms), Ms(l, l.p999_ms), Ms(l, l.max_ms),
                          r.successes, r.errors);
  }
  for (const LevelResult& r : levels) {
    if (!r.server.has_value()) continue;
    const ServerSideStats& s = *r.server;
    absl::StrAppendFormat(&out, "server at %s: %d OK requests, %d rows in %d batches",
                          LevelLabel(r.spec), s.requests, s.inferences, s.executions);
    if (s.executions > 0) {
      absl::StrAppendFormat(&out, " (%.1f rows a batch)",
                            static_cast<double>(s.inferences) / static_cast<double>(s.executions));
    }
    if (s.requests > 0) {
      absl::StrAppendFormat(&out,
                            "; per request %.1f us = queue %.1f + compute input %.1f + infer "
                            "%.1f + output %.1f + other %.1f",
                            s.request_us, s.queue_us, s.compute_input_us, s.compute_infer_us,
                            s.compute_output_us, s.other_us);
    }
    absl::StrAppend(&out, "\n");
  }
  for (const LevelResult& r : levels) {
    if (r.errors == 0 && r.not_sent == 0) continue;
    std::vector<std::string> parts;
    for (const auto& [code, n] : r.errors_by_code) parts.push_back(absl::StrCat(code, "=", n));
    if (r.not_sent_max_in_flight > 0) {
      parts.push_back(absl::StrCat("NOT_SENT(max in-flight)=", r.not_sent_max_in_flight));
    }
    if (r.not_sent_late > 0) {
      parts.push_back(absl::StrCat("NOT_SENT(pacer behind)=", r.not_sent_late));
    }
    absl::StrAppend(&out, "errors at ", LevelLabel(r.spec), ": ", absl::StrJoin(parts, " "), "\n");
  }
  for (const LevelResult& r : levels) {
    if (r.sent_late == 0) continue;
    absl::StrAppendFormat(&out,
                          "late at %s: %d of %d requests sent more than 1 ms after they were due, "
                          "up to %.3f ms (their latency counts from the due time)\n",
                          LevelLabel(r.spec), r.sent_late, r.sent, r.max_send_lag_ms);
  }
  for (const LevelResult& r : levels) {
    if (!r.unreachable) continue;
    absl::StrAppend(&out, "aborted at ", LevelLabel(r.spec),
                    ": the server was unreachable (only UNAVAILABLE for a second)\n");
  }
  for (const LevelResult& r : levels) {
    const DrainResult& d = r.drain;
    if (d.errors == 0 && d.max_latency_ms <= r.latency.max_ms) continue;
    std::vector<std::string> parts = {absl::StrCat("OK=", d.successes)};
    for (const auto& [code, n] : d.errors_by_code) parts.push_back(absl::StrCat(code, "=", n));
    absl::StrAppendFormat(&out,
                          "after the window at %s (not counted above): %s in %.3f s, slowest OK "
                          "%.3f ms\n",
                          LevelLabel(r.spec), absl::StrJoin(parts, " "), d.seconds,
                          d.max_latency_ms);
  }
  return out;
}

nlohmann::json PerfReportJson(const PerfContext& context, const std::vector<LevelResult>& levels) {
  nlohmann::json out_levels = nlohmann::json::array();
  for (const LevelResult& r : levels) {
    const LatencySummary& l = r.latency;
    nlohmann::json server;  // null when absent
    if (r.server.has_value()) {
      const ServerSideStats& s = *r.server;
      server = {{"requests", s.requests},
                {"inferences", s.inferences},
                {"executions", s.executions},
                {"request_us", s.request_us},
                {"queue_us", s.queue_us},
                {"compute_input_us", s.compute_input_us},
                {"compute_infer_us", s.compute_infer_us},
                {"compute_output_us", s.compute_output_us},
                {"other_us", s.other_us}};
    }
    out_levels.push_back({
        {"concurrency", r.spec.request_rate > 0 ? 0 : r.spec.concurrency},
        {"request_rate", r.spec.request_rate},
        {"sent", r.sent},
        {"successes", r.successes},
        {"errors", r.errors},
        {"errors_by_code", r.errors_by_code},
        {"not_sent", r.not_sent},
        {"not_sent_max_in_flight", r.not_sent_max_in_flight},
        {"not_sent_late", r.not_sent_late},
        {"sent_late", r.sent_late},
        {"max_send_lag_ms", r.max_send_lag_ms},
        {"unreachable", r.unreachable},
        {"elapsed_s", r.elapsed_s},
        {"requests_per_s", r.requests_per_s},
        {"rows_per_s", r.rows_per_s},
        {"warmup_requests", r.warmup_requests},
        {"client_cpu_s", r.client_cpu_s},
        {"latency_ms",
         {{"mean", MsJson(l, l.mean_ms)},
          {"p50", MsJson(l, l.p50_ms)},
          {"p90", MsJson(l, l.p90_ms)},
          {"p99", MsJson(l, l.p99_ms)},
          {"p99.9", MsJson(l, l.p999_ms)},
          {"min", MsJson(l, l.min_ms)},
          {"max", MsJson(l, l.max_ms)}}},
        {"drain",
         {{"successes", r.drain.successes},
          {"errors", r.drain.errors},
          {"errors_by_code", r.drain.errors_by_code},
          {"seconds", r.drain.seconds},
          {"max_latency_ms", r.drain.max_latency_ms}}},
        {"server", std::move(server)},
    });
  }
  return {{"target", context.target},
          {"rpc", context.rpc},
          {"model", context.model},
          {"batch", context.batch},
          {"levels", std::move(out_levels)}};
}

std::string FormatProgress(absl::string_view label, const PerfProgress& p,
                           const PerfProgress& previous) {
  const int64_t ok = p.completed - p.errors;
  const double dt = p.elapsed_s - previous.elapsed_s;
  const double rate = dt > 0 ? (ok - (previous.completed - previous.errors)) / dt : 0;
  return absl::StrFormat("[%s] %5.1fs  %d ok  %.1f ok req/s  %d errors  %d in flight", label,
                         p.elapsed_s, ok, rate, p.errors, p.in_flight);
}

}  // namespace mlpserve::client

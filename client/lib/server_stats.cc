#include "client/lib/server_stats.h"

#include <algorithm>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"

namespace mlpserve::client {
namespace {

// The counters ServerSideDelta uses, of one version or summed.
struct Counters {
  uint64_t requests = 0, request_ns = 0;
  uint64_t inferences = 0, executions = 0;
  uint64_t queue_ns = 0, input_ns = 0, infer_ns = 0, output_ns = 0;
};

Counters Read(const inference::ModelStatistics& m) {
  const inference::InferStatistics& s = m.inference_stats();
  return {s.success().count(),    s.success().ns(),       m.inference_count(),
          m.execution_count(),    s.queue().ns(),         s.compute_input().ns(),
          s.compute_infer().ns(), s.compute_output().ns()};
}

std::map<std::string, Counters> ByVersion(const inference::ModelStatisticsResponse& response,
                                          const std::string& model) {
  std::map<std::string, Counters> out;
  for (const inference::ModelStatistics& m : response.model_stats()) {
    if (m.name() == model) out[m.version()] = Read(m);
  }
  return out;
}

}  // namespace

absl::StatusOr<ServerSideStats> ServerSideDelta(const inference::ModelStatisticsResponse& before,
                                                const inference::ModelStatisticsResponse& after,
                                                const std::string& model) {
  const std::map<std::string, Counters> start = ByVersion(before, model);
  Counters total;
  for (const auto& [version, end] : ByVersion(after, model)) {
    Counters from;
    if (auto it = start.find(version); it != start.end()) from = it->second;
    uint64_t Counters::*const fields[] = {
        &Counters::requests, &Counters::request_ns, &Counters::inferences, &Counters::executions,
        &Counters::queue_ns, &Counters::input_ns,   &Counters::infer_ns,   &Counters::output_ns};
    for (auto field : fields) {
      if (end.*field < from.*field) {
        return absl::InvalidArgumentError(
            absl::StrCat("model '", model, "' version ", version,
                         ": statistics went down between two reads (reloaded?)"));
      }
      total.*field += end.*field - from.*field;
    }
  }
  ServerSideStats out;
  out.requests = total.requests;
  out.inferences = total.inferences;
  out.executions = total.executions;
  if (total.requests == 0) return out;
  const double n = static_cast<double>(total.requests) * 1000.0;  // ns -> us per request
  out.request_us = static_cast<double>(total.request_ns) / n;
  out.queue_us = static_cast<double>(total.queue_ns) / n;
  out.compute_input_us = static_cast<double>(total.input_ns) / n;
  out.compute_infer_us = static_cast<double>(total.infer_ns) / n;
  out.compute_output_us = static_cast<double>(total.output_ns) / n;
  out.other_us = std::max(0.0, out.request_us - out.queue_us - out.compute_input_us -
                                   out.compute_infer_us - out.compute_output_us);
  return out;
}

}  // namespace mlpserve::client

// Latency samples and their percentiles, for the perf load generator.
#ifndef MLPSERVE_CLIENT_LIB_LATENCY_STATS_H_
#define MLPSERVE_CLIENT_LIB_LATENCY_STATS_H_

#include <cstdint>
#include <vector>

namespace mlpserve::client {

// A summary of latency samples, all in milliseconds. Zero when empty.
struct LatencySummary {
  int64_t count = 0;
  double mean_ms = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
};

// Collects every sample (nanoseconds) and answers exact nearest-rank
// percentiles. Not thread-safe: callers that record from several threads
// guard it themselves (PerfRunner does).
class LatencyStats {
 public:
  void Add(int64_t nanos) {
    samples_.push_back(nanos);
    sorted_ = false;
  }
  void Merge(const LatencyStats& other);
  int64_t count() const { return static_cast<int64_t>(samples_.size()); }

  // The nearest-rank percentile in nanoseconds: the smallest sample such that
  // at least `percent`% of samples are <= it. `percent` is clamped to
  // [0, 100]; 0 gives the minimum, 100 the maximum. 0 when empty. Sorts the
  // samples on first use after an Add (hence non-const).
  int64_t PercentileNanos(double percent);

  LatencySummary Summarize();

 private:
  std::vector<int64_t> samples_;
  bool sorted_ = true;
};

}  // namespace mlpserve::client

#endif  // MLPSERVE_CLIENT_LIB_LATENCY_STATS_H_

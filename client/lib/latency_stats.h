// Latency samples and their percentiles, for the perf load generator.
#ifndef MLPSERVE_CLIENT_LIB_LATENCY_STATS_H_
#define MLPSERVE_CLIENT_LIB_LATENCY_STATS_H_

#include <cstdint>
#include <limits>
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

// Latency samples (nanoseconds) in bounded memory: a log-linear histogram
// (as HdrHistogram's) whose buckets are exact below 1024 ns and, above, split
// each power of two into 1024 equal parts, so a bucket is at most 1/1024
// (< 0.1%) of its values wide, for any int64 value (at most 55,296 buckets,
// 442 KB, however many samples and however long the run). Count, sum (for
// the mean), minimum and maximum are exact. Adding is O(1) and never copies
// what is stored, except to grow the bucket array up to that bound.
// Not thread-safe: callers that record from several threads guard it
// themselves (PerfRunner does).
class LatencyStats {
 public:
  // Negative samples count as 0.
  void Add(int64_t nanos);
  void Merge(const LatencyStats& other);
  int64_t count() const { return count_; }

  // The nearest-rank percentile in nanoseconds: the smallest sample such
  // that at least `percent`% of samples are <= it, to within 0.05% (the
  // middle of its bucket; exact below 1024 ns). `percent` is clamped to
  // [0, 100]; 0 gives the exact minimum, 100 the exact maximum, and every
  // answer lies within them. 0 when empty.
  int64_t PercentileNanos(double percent) const;

  LatencySummary Summarize() const;

 private:
  std::vector<int64_t> counts_;  // Per bucket; grown to the highest used.
  int64_t count_ = 0;
  long double sum_ = 0;
  int64_t min_ = std::numeric_limits<int64_t>::max();
  int64_t max_ = 0;
};

}  // namespace mlpserve::client

#endif  // MLPSERVE_CLIENT_LIB_LATENCY_STATS_H_

#include "client/lib/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mlpserve::client {

void LatencyStats::Merge(const LatencyStats& other) {
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  sorted_ = false;
}

int64_t LatencyStats::PercentileNanos(double percent) {
  if (samples_.empty()) return 0;
  if (!sorted_) std::sort(samples_.begin(), samples_.end());
  sorted_ = true;
  percent = std::clamp(percent, 0.0, 100.0);
  const double n = static_cast<double>(samples_.size());
  // Nearest rank: ceil(p/100 * n), 1-based; rank 0 (p == 0) means the minimum.
  auto rank = static_cast<int64_t>(std::ceil(percent / 100.0 * n - 1e-9));
  rank = std::clamp<int64_t>(rank, 1, static_cast<int64_t>(samples_.size()));
  return samples_[rank - 1];
}

LatencySummary LatencyStats::Summarize() {
  LatencySummary s;
  s.count = count();
  if (samples_.empty()) return s;
  constexpr double kMs = 1e6;
  const long double sum = std::accumulate(samples_.begin(), samples_.end(), 0.0L);
  s.mean_ms = static_cast<double>(sum / samples_.size()) / kMs;
  s.p50_ms = PercentileNanos(50) / kMs;
  s.p90_ms = PercentileNanos(90) / kMs;
  s.p99_ms = PercentileNanos(99) / kMs;
  s.p999_ms = PercentileNanos(99.9) / kMs;
  s.min_ms = PercentileNanos(0) / kMs;
  s.max_ms = PercentileNanos(100) / kMs;
  return s;
}

}  // namespace mlpserve::client

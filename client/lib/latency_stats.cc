#include "client/lib/latency_stats.h"

#include <algorithm>
#include <cmath>

namespace mlpserve::client {
namespace {

// Buckets: values below kSub each have their own; above, [2^k, 2^(k+1))
// is split into kSub buckets of 2^(k - kSubBits) values.
constexpr int kSubBits = 10;
constexpr int64_t kSub = int64_t{1} << kSubBits;

size_t BucketOf(int64_t v) {
  if (v < kSub) return static_cast<size_t>(v);
  const int k = 63 - __builtin_clzll(static_cast<uint64_t>(v));  // >= kSubBits
  const int shift = k - kSubBits;
  return static_cast<size_t>((shift + 1) * kSub + ((v >> shift) - kSub));
}

// The middle of bucket `i`'s values.
int64_t BucketMiddle(size_t i) {
  const auto index = static_cast<int64_t>(i);
  if (index < kSub) return index;
  const int shift = static_cast<int>(index / kSub) - 1;
  const int64_t low = (kSub + index % kSub) << shift;
  return low + ((int64_t{1} << shift) - 1) / 2;
}

}  // namespace

void LatencyStats::Add(int64_t nanos) {
  nanos = std::max<int64_t>(nanos, 0);
  const size_t bucket = BucketOf(nanos);
  if (bucket >= counts_.size()) counts_.resize(bucket + 1, 0);
  ++counts_[bucket];
  ++count_;
  sum_ += nanos;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
}

void LatencyStats::Merge(const LatencyStats& other) {
  if (other.count_ == 0) return;
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

int64_t LatencyStats::PercentileNanos(double percent) const {
  if (count_ == 0) return 0;
  percent = std::clamp(percent, 0.0, 100.0);
  const double n = static_cast<double>(count_);
  // Nearest rank: ceil(p/100 * n), 1-based; rank 0 (p == 0) means the minimum.
  auto rank = static_cast<int64_t>(std::ceil(percent / 100.0 * n - 1e-9));
  rank = std::clamp<int64_t>(rank, 1, count_);
  if (rank == 1) return min_;
  if (rank == count_) return max_;
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(BucketMiddle(i), min_, max_);
  }
  return max_;  // Not reached: the counts add up to count_.
}

LatencySummary LatencyStats::Summarize() const {
  LatencySummary s;
  s.count = count_;
  if (count_ == 0) return s;
  constexpr double kMs = 1e6;
  s.mean_ms = static_cast<double>(sum_ / count_) / kMs;
  s.p50_ms = PercentileNanos(50) / kMs;
  s.p90_ms = PercentileNanos(90) / kMs;
  s.p99_ms = PercentileNanos(99) / kMs;
  s.p999_ms = PercentileNanos(99.9) / kMs;
  s.min_ms = min_ / kMs;
  s.max_ms = max_ / kMs;
  return s;
}

}  // namespace mlpserve::client

#include "client/lib/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace mlpserve::client {
namespace {

// Nearest-rank percentile straight from the definition, on a sorted copy.
int64_t Reference(std::vector<int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  if (p <= 0) return v.front();
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * v.size() - 1e-9));
  rank = std::max<size_t>(rank, 1);
  return v[std::min(rank, v.size()) - 1];
}

TEST(LatencyStatsTest, EmptyIsZero) {
  LatencyStats stats;
  EXPECT_EQ(stats.PercentileNanos(50), 0);
  LatencySummary s = stats.Summarize();
  EXPECT_EQ(s.count, 0);
  EXPECT_EQ(s.max_ms, 0);
}

TEST(LatencyStatsTest, SmallKnownValues) {
  LatencyStats stats;
  for (int64_t v : {50, 10, 40, 20, 30}) stats.Add(v);
  EXPECT_EQ(stats.PercentileNanos(0), 10);
  EXPECT_EQ(stats.PercentileNanos(20), 10);
  EXPECT_EQ(stats.PercentileNanos(21), 20);
  EXPECT_EQ(stats.PercentileNanos(50), 30);
  EXPECT_EQ(stats.PercentileNanos(90), 50);
  EXPECT_EQ(stats.PercentileNanos(100), 50);
  EXPECT_EQ(stats.PercentileNanos(250), 50);  // Clamped.
}

TEST(LatencyStatsTest, MatchesSortedReference) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(12, 1);
  for (size_t n : {1u, 2u, 3u, 10u, 999u, 1000u, 12345u}) {
    std::vector<int64_t> samples;
    LatencyStats stats;
    for (size_t i = 0; i < n; ++i) {
      samples.push_back(static_cast<int64_t>(dist(rng)));
      stats.Add(samples.back());
    }
    for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
      EXPECT_EQ(stats.PercentileNanos(p), Reference(samples, p)) << "n=" << n << " p=" << p;
    }
  }
}

TEST(LatencyStatsTest, AddAfterQueryResorts) {
  LatencyStats stats;
  stats.Add(100);
  EXPECT_EQ(stats.PercentileNanos(100), 100);
  stats.Add(5);
  EXPECT_EQ(stats.PercentileNanos(0), 5);
  EXPECT_EQ(stats.PercentileNanos(100), 100);
}

TEST(LatencyStatsTest, MergeAndSummaryInMilliseconds) {
  LatencyStats a, b;
  for (int i = 1; i <= 500; ++i) a.Add(i * 1'000'000LL);
  for (int i = 501; i <= 1000; ++i) b.Add(i * 1'000'000LL);
  a.Merge(b);
  LatencySummary s = a.Summarize();
  EXPECT_EQ(s.count, 1000);
  EXPECT_DOUBLE_EQ(s.p50_ms, 500);
  EXPECT_DOUBLE_EQ(s.p90_ms, 900);
  EXPECT_DOUBLE_EQ(s.p99_ms, 990);
  EXPECT_DOUBLE_EQ(s.p999_ms, 999);
  EXPECT_DOUBLE_EQ(s.min_ms, 1);
  EXPECT_DOUBLE_EQ(s.max_ms, 1000);
  EXPECT_DOUBLE_EQ(s.mean_ms, 500.5);
}

}  // namespace
}  // namespace mlpserve::client

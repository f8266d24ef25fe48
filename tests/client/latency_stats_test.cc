#include "client/lib/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
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

// Within the histogram's precision (half a bucket: 1/2048 of the value)
// of the exact nearest-rank percentile; min and max exact.
void ExpectMatchesReference(const std::vector<int64_t>& samples, const LatencyStats& stats,
                            const std::string& what) {
  for (double p : {0.0, 0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const int64_t want = Reference(samples, p);
    const int64_t got = stats.PercentileNanos(p);
    EXPECT_LE(std::abs(static_cast<double>(got - want)), want / 2048.0)
        << what << " p=" << p << " got " << got << " want " << want;
  }
  EXPECT_EQ(stats.PercentileNanos(0), *std::min_element(samples.begin(), samples.end())) << what;
  EXPECT_EQ(stats.PercentileNanos(100), *std::max_element(samples.begin(), samples.end())) << what;
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
    ExpectMatchesReference(samples, stats, "lognormal n=" + std::to_string(n));
  }
}

// Log-uniform from 1 us to 3 hours, and values in a narrow band (many in
// one bucket), against the sorted reference.
TEST(LatencyStatsTest, MatchesSortedReferenceFromMicrosecondsToHours) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> exponent(std::log(1e3), std::log(3 * 3600e9));
  std::vector<int64_t> wide;
  LatencyStats wide_stats;
  for (int i = 0; i < 200000; ++i) {
    wide.push_back(static_cast<int64_t>(std::exp(exponent(rng))));
    wide_stats.Add(wide.back());
  }
  ExpectMatchesReference(wide, wide_stats, "log-uniform");
  std::uniform_int_distribution<int64_t> band(5'000'000, 5'020'000);
  std::vector<int64_t> narrow;
  LatencyStats narrow_stats;
  for (int i = 0; i < 50000; ++i) {
    narrow.push_back(band(rng));
    narrow_stats.Add(narrow.back());
  }
  ExpectMatchesReference(narrow, narrow_stats, "narrow");
}

TEST(LatencyStatsTest, ExtremeValues) {
  LatencyStats stats;
  stats.Add(-5);
  stats.Add(std::numeric_limits<int64_t>::max());
  stats.Add(std::numeric_limits<int64_t>::max() / 3);
  EXPECT_EQ(stats.PercentileNanos(0), 0);
  EXPECT_EQ(stats.PercentileNanos(100), std::numeric_limits<int64_t>::max());
  const double third = static_cast<double>(std::numeric_limits<int64_t>::max() / 3);
  EXPECT_NEAR(static_cast<double>(stats.PercentileNanos(50)), third, third / 2048);
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
  EXPECT_NEAR(s.p50_ms, 500, 500 / 2048.0);
  EXPECT_NEAR(s.p90_ms, 900, 900 / 2048.0);
  EXPECT_NEAR(s.p99_ms, 990, 990 / 2048.0);
  EXPECT_NEAR(s.p999_ms, 999, 999 / 2048.0);
  EXPECT_DOUBLE_EQ(s.min_ms, 1);
  EXPECT_DOUBLE_EQ(s.max_ms, 1000);
  EXPECT_DOUBLE_EQ(s.mean_ms, 500.5);
}

}  // namespace
}  // namespace mlpserve::client

// CountSigns (the activation statistics' inner loop) against a naive
// per-value loop, for widths that exercise its whole blocks of units, a
// partial block alone, and both together.
#include "server/engine/sign_counter.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpserve::engine_internal {
namespace {

struct NaiveCounts {
  std::vector<uint32_t> positive_rows;
  int64_t negative = 0;
};

NaiveCounts Naive(const std::vector<float>& data, int64_t rows, int64_t units, float threshold,
                  const std::vector<uint32_t>& zero_is_negative) {
  NaiveCounts counts;
  counts.positive_rows.assign(static_cast<size_t>(units), 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < units; ++c) {
      const float v = data[static_cast<size_t>(r * units + c)];
      if (v > threshold || std::isnan(v)) {
        ++counts.positive_rows[static_cast<size_t>(c)];
      } else if (v < threshold || zero_is_negative[static_cast<size_t>(c)] != 0) {
        ++counts.negative;
      }
    }
  }
  return counts;
}

TEST(SignCounterTest, MatchesANaiveLoopForEveryWidth) {
  std::mt19937 rng(7);
  for (float threshold : {0.0f, 0.5f}) {
    for (int64_t units : {1, 10, 31, 32, 33, 64, 70, 512, 1000}) {
      for (int64_t rows : {1, 3, 64}) {
        // Values on, above and below the threshold, and NaN, a quarter of each.
        std::vector<float> data(static_cast<size_t>(rows * units));
        std::uniform_int_distribution<int> pick(0, 3);
        std::uniform_real_distribution<float> magnitude(0.001f, 2.0f);
        for (float& v : data) {
          const int kind = pick(rng);
          v = kind == 3   ? std::numeric_limits<float>::quiet_NaN()
              : kind == 0 ? threshold
                          : threshold + (kind == 1 ? 1.0f : -1.0f) * magnitude(rng);
        }
        std::vector<uint32_t> zero_is_negative(static_cast<size_t>(units));
        for (uint32_t& z : zero_is_negative) z = static_cast<uint32_t>(pick(rng) == 0);
        const SignRule rule{threshold, zero_is_negative.data()};

        std::vector<uint32_t> positive_rows(static_cast<size_t>(units), 12345u);  // overwritten
        const int64_t negative = CountSigns(data.data(), rows, units, rule, positive_rows.data());

        const NaiveCounts want = Naive(data, rows, units, threshold, zero_is_negative);
        SCOPED_TRACE(::testing::Message()
                     << "threshold " << threshold << ", " << rows << " x " << units);
        EXPECT_EQ(negative, want.negative);
        EXPECT_THAT(positive_rows, ::testing::ElementsAreArray(want.positive_rows));
      }
    }
  }
}

}  // namespace
}  // namespace mlpserve::engine_internal

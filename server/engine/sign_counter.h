// Sign counting over a block of layer values: the inner loop of the
// activation statistics (see activation_counts.h for what is counted).
//
// Internal to the engine. Written so GCC auto-vectorises it at -O3: blocks of
// units whose accumulators stay in registers across all rows, branch-free
// compares.
#ifndef MLPSERVE_SERVER_ENGINE_SIGN_COUNTER_H_
#define MLPSERVE_SERVER_ENGINE_SIGN_COUNTER_H_

#include <cstdint>

namespace mlpserve::engine_internal {

// How a value v of unit c is classified:
//   positive  iff v > threshold, or v is NaN
//   negative  iff v < threshold, or v == threshold where zero_is_negative[c]
// A NaN has no sign: it is never negative, and it counts with the positives
// so that a layer fed NaN (a broken input upstream, which the server does not
// refuse unless told to) does not report every unit dead.
// (ReLU-like outputs use threshold 0 with zero_is_negative set: an output of 0
// cannot tell x < 0 from x == 0; sigmoid outputs use threshold 0.5.)
struct SignRule {
  float threshold = 0.0f;
  // Per unit, 0 or 1; `units` entries.
  const uint32_t* zero_is_negative = nullptr;
};

// Classifies the row-major block data[rows * units]. Writes positive_rows[c] =
// number of rows where unit c is positive (overwritten, not accumulated) and
// returns the total number of negative values. rows < 2^32. Thread-compatible,
// allocates nothing.
int64_t CountSigns(const float* data, int64_t rows, int64_t units, const SignRule& rule,
                   uint32_t* positive_rows);

}  // namespace mlpserve::engine_internal

#endif  // MLPSERVE_SERVER_ENGINE_SIGN_COUNTER_H_

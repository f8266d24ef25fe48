#include "server/engine/sign_counter.h"

// x86-64: an AVX2 clone picked at load time (ifunc) next to the baseline SSE2
// one; 8-wide compares make counting ~20% cheaper on AVX2 machines. Not
// under ThreadSanitizer: GCC instruments the ifunc resolver, which the dynamic
// loader runs before the TSan runtime is initialised (segfault at start-up).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define MLPSERVE_COUNT_TARGETS __attribute__((target_clones("avx2", "default")))
#else
#define MLPSERVE_COUNT_TARGETS
#endif

namespace mlpserve::engine_internal {

MLPSERVE_COUNT_TARGETS
int64_t CountSigns(const float* data, int64_t rows, int64_t units, const SignRule& rule,
                   uint32_t* positive_rows, uint32_t* negative_scratch) {
  const float t = rule.threshold;
  const uint32_t* __restrict zero_negative = rule.zero_is_negative;
  uint32_t* __restrict pos = positive_rows;
  uint32_t* __restrict neg = negative_scratch;
  for (int64_t c = 0; c < units; ++c) {
    pos[c] = 0;
    neg[c] = 0;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict row = data + r * units;
    // Vectorised by GCC: compares yield 0/1, added to per-unit counters.
    for (int64_t c = 0; c < units; ++c) {
      const float v = row[c];
      pos[c] += static_cast<uint32_t>(v > t);
      neg[c] += static_cast<uint32_t>(v < t) | (static_cast<uint32_t>(v == t) & zero_negative[c]);
    }
  }
  int64_t negative = 0;
  for (int64_t c = 0; c < units; ++c) negative += neg[c];
  return negative;
}

}  // namespace mlpserve::engine_internal

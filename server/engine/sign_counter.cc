#include "server/engine/sign_counter.h"

// x86-64: AVX-512 and AVX2 clones picked at load time (ifunc) next to the
// baseline SSE2 one. Not under ThreadSanitizer: GCC instruments the ifunc
// resolver, which the dynamic loader runs before the TSan runtime is
// initialised (segfault at start-up).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define MLPSERVE_COUNT_TARGETS __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MLPSERVE_COUNT_TARGETS
#endif

namespace mlpserve::engine_internal {
namespace {

// Units are counted a block at a time: the block's counters stay in vector
// registers while every row goes by, and are stored once. (Counting a whole
// row at a time kept one counter pair per unit in memory and updated it on
// every row; those stores bounded the loop.)
constexpr int64_t kBlock = 32;

// Counts units [0, n) of the block starting at `data` (n <= kBlock; rows
// `stride` floats apart). Vectorised by GCC: compares yield 0/1, added to
// per-unit counters; with n == kBlock it unrolls completely. Always inlined,
// so that each clone of CountSigns compiles it for its own instruction set.
[[gnu::always_inline]] inline int64_t CountBlock(const float* __restrict data, int64_t rows,
                                                 int64_t stride, int64_t n, float t,
                                                 const uint32_t* __restrict zero_negative,
                                                 uint32_t* __restrict positive_rows) {
  uint32_t pos[kBlock] = {};
  uint32_t neg[kBlock] = {};
  uint32_t zero_neg[kBlock] = {};
  for (int64_t c = 0; c < n; ++c) zero_neg[c] = zero_negative[c];
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict row = data + r * stride;
    for (int64_t c = 0; c < n; ++c) {
      const float v = row[c];
      pos[c] += static_cast<uint32_t>(!(v <= t));  // v > t, or NaN
      neg[c] += static_cast<uint32_t>(v < t) | (static_cast<uint32_t>(v == t) & zero_neg[c]);
    }
  }
  int64_t negative = 0;
  for (int64_t c = 0; c < n; ++c) {
    positive_rows[c] = pos[c];
    negative += neg[c];
  }
  return negative;
}

}  // namespace

MLPSERVE_COUNT_TARGETS
int64_t CountSigns(const float* data, int64_t rows, int64_t units, const SignRule& rule,
                   uint32_t* positive_rows) {
  int64_t negative = 0;
  int64_t c = 0;
  for (; c + kBlock <= units; c += kBlock) {
    negative += CountBlock(data + c, rows, units, kBlock, rule.threshold, rule.zero_is_negative + c,
                           positive_rows + c);
  }
  if (c < units) {
    negative += CountBlock(data + c, rows, units, units - c, rule.threshold,
                           rule.zero_is_negative + c, positive_rows + c);
  }
  return negative;
}

}  // namespace mlpserve::engine_internal

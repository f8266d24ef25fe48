// Shared helpers for the engine tests: random models and inputs with fixed
// seeds, unaligned multi-piece inputs, and the numeric tolerance check.
#ifndef MLPSERVE_TESTS_ENGINE_ENGINE_TEST_UTIL_H_
#define MLPSERVE_TESTS_ENGINE_ENGINE_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "server/engine/compiled_mlp.h"
#include "server/model/mlp.h"

namespace mlpserve::engine_test {

Activation MakeActivation(ActivationKind kind, float alpha = 0.01f);
Activation MakePRelu(std::vector<float> slope);

// Weights and bias uniform in [-1/sqrt(in), 1/sqrt(in)] from `seed`.
DenseLayer RandomLayer(int64_t in, int64_t out, Activation activation, uint32_t seed);

// A chain in -> widths[0] -> ... with `hidden` on every layer but the last,
// which gets `last`.
Mlp RandomMlp(int64_t in, const std::vector<int64_t>& widths, const Activation& hidden,
              const Activation& last, uint32_t seed);

// Uniform in [-1, 1].
std::vector<float> RandomInput(int64_t rows, int64_t features, uint32_t seed);

// The input rows as raw FP32 bytes stored at an odd (unaligned) address and
// split into up to `max_pieces` pieces of whole rows of unequal sizes.
class PieceInput {
 public:
  PieceInput(const std::vector<float>& input, int64_t features, int max_pieces);
  absl::Span<const absl::string_view> pieces() const { return pieces_; }

 private:
  std::string storage_;
  std::vector<absl::string_view> pieces_;
};

// |got - want| <= 1e-5 * max(1, |want|) element-wise, sizes equal.
::testing::AssertionResult NearReference(absl::Span<const float> got,
                                         const std::vector<float>& want);

// `threads`: CompiledMlp::Options::threads; contexts made with the default
// (0) thread count run with as many.
std::shared_ptr<const CompiledMlp> MustCompile(Mlp mlp, int64_t max_batch_size, int threads = 1);
std::unique_ptr<ExecutionContext> MustContext(std::shared_ptr<const CompiledMlp> model,
                                              int threads = 0);

}  // namespace mlpserve::engine_test

#endif  // MLPSERVE_TESTS_ENGINE_ENGINE_TEST_UTIL_H_

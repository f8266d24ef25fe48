#include "tests/engine/engine_test_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <utility>

namespace mlpserve::engine_test {

Activation MakeActivation(ActivationKind kind, float alpha) {
  Activation act;
  act.kind = kind;
  act.alpha = alpha;
  act.node = std::string(ActivationName(kind));
  return act;
}

Activation MakePRelu(std::vector<float> slope) {
  Activation act = MakeActivation(ActivationKind::kPRelu);
  act.slope = std::move(slope);
  return act;
}

DenseLayer RandomLayer(int64_t in, int64_t out, Activation activation, uint32_t seed) {
  std::mt19937 rng(seed);
  const float scale = 1.0f / std::sqrt(static_cast<float>(in));
  std::uniform_real_distribution<float> dist(-scale, scale);
  DenseLayer layer;
  layer.in = in;
  layer.out = out;
  layer.weights.resize(in * out);
  for (float& w : layer.weights) w = dist(rng);
  layer.bias.resize(out);
  for (float& b : layer.bias) b = dist(rng);
  layer.activation = std::move(activation);
  layer.node = "Gemm_" + std::to_string(seed);
  return layer;
}

Mlp RandomMlp(int64_t in, const std::vector<int64_t>& widths, const Activation& hidden,
              const Activation& last, uint32_t seed) {
  Mlp mlp;
  mlp.input_name = "input";
  mlp.output_name = "output";
  for (size_t i = 0; i < widths.size(); ++i) {
    Activation act = i + 1 == widths.size() ? last : hidden;
    if (act.kind == ActivationKind::kPRelu && act.slope.size() != static_cast<size_t>(widths[i])) {
      act.slope.resize(widths[i], 0.25f);
    }
    mlp.layers.push_back(RandomLayer(in, widths[i], act, seed + static_cast<uint32_t>(i)));
    in = widths[i];
  }
  return mlp;
}

std::vector<float> RandomInput(int64_t rows, int64_t features, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> input(rows * features);
  for (float& v : input) v = dist(rng);
  return input;
}

PieceInput::PieceInput(const std::vector<float>& input, int64_t features, int max_pieces) {
  const size_t bytes = input.size() * sizeof(float);
  storage_.assign(bytes + 1, '\0');
  std::memcpy(&storage_[1], input.data(), bytes);  // offset 1: unaligned
  const int64_t rows = features == 0 ? 0 : static_cast<int64_t>(input.size()) / features;
  const size_t row_bytes = features * sizeof(float);
  int64_t start = 0;
  for (int p = 0; p < max_pieces && start < rows; ++p) {
    // Pieces of 1, 2, 3, ... rows; the last takes what is left.
    int64_t take = p + 1 == max_pieces ? rows - start : std::min<int64_t>(p + 1, rows - start);
    pieces_.emplace_back(&storage_[1 + start * row_bytes], take * row_bytes);
    start += take;
  }
}

::testing::AssertionResult NearReference(absl::Span<const float> got,
                                         const std::vector<float>& want) {
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure() << "size " << got.size() << " != " << want.size();
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const double tolerance = 1e-5 * std::max(1.0, std::abs(static_cast<double>(want[i])));
    if (!(std::abs(static_cast<double>(got[i]) - want[i]) <= tolerance)) {
      return ::testing::AssertionFailure()
             << "element " << i << ": got " << got[i] << ", want " << want[i];
    }
  }
  return ::testing::AssertionSuccess();
}

std::shared_ptr<const CompiledMlp> MustCompile(Mlp mlp, int64_t max_batch_size, int threads) {
  CompiledMlp::Options options;
  options.max_batch_size = max_batch_size;
  options.threads = threads;
  auto compiled = CompiledMlp::Create(std::move(mlp), options);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return compiled.ok() ? *std::move(compiled) : nullptr;
}

std::unique_ptr<ExecutionContext> MustContext(std::shared_ptr<const CompiledMlp> model,
                                              int threads) {
  ExecutionContext::Options options;
  options.threads = threads;
  auto context = ExecutionContext::Create(std::move(model), options);
  EXPECT_TRUE(context.ok()) << context.status();
  return context.ok() ? *std::move(context) : nullptr;
}

}  // namespace mlpserve::engine_test

// ExecutionContext::Run throughput in rows per second (items_per_second), with
// activation counting off (counts=0) and on (counts=1).
//
//   BM_Mlp256/batch:B/counts:C  256 -> 512 -> 512 -> 10, Leaky ReLU 0.01,
//                               max_batch_size 512, one oneDNN thread
//   BM_Tiny/batch:1/counts:C    16 -> 32 -> 32 -> 4, Leaky ReLU 0.01
//
// Run: build/bin/engine_bench [--benchmark_repetitions=5]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "server/engine/activation_counts.h"
#include "server/engine/compiled_mlp.h"
#include "server/model/mlp.h"

namespace mlpserve {
namespace {

Mlp LeakyMlp(int64_t in, const std::vector<int64_t>& widths) {
  std::mt19937 rng(42);
  Mlp mlp;
  for (size_t i = 0; i < widths.size(); ++i) {
    DenseLayer layer;
    layer.in = in;
    layer.out = widths[i];
    const float scale = 1.0f / std::sqrt(static_cast<float>(in));
    std::uniform_real_distribution<float> dist(-scale, scale);
    layer.weights.resize(in * layer.out);
    for (float& w : layer.weights) w = dist(rng);
    layer.bias.resize(layer.out);
    for (float& b : layer.bias) b = dist(rng);
    if (i + 1 < widths.size()) layer.activation.kind = ActivationKind::kLeakyRelu;
    mlp.layers.push_back(std::move(layer));
    in = widths[i];
  }
  return mlp;
}

std::shared_ptr<const CompiledMlp> Compile(Mlp mlp, int64_t max_batch_size) {
  CompiledMlp::Options options;
  options.max_batch_size = max_batch_size;
  auto compiled = CompiledMlp::Create(std::move(mlp), options);
  if (!compiled.ok()) {
    std::fprintf(stderr, "%s\n", compiled.status().ToString().c_str());
    std::abort();
  }
  return *std::move(compiled);
}

void RunBenchmark(benchmark::State& state, const std::shared_ptr<const CompiledMlp>& model) {
  const int64_t rows = state.range(0);
  const bool with_counts = state.range(1) != 0;
  auto context = ExecutionContext::Create(model, ExecutionContext::Options{});
  if (!context.ok()) {
    state.SkipWithError(context.status().ToString().c_str());
    return;
  }
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> input(rows * model->input_features());
  for (float& v : input) v = dist(rng);
  const absl::string_view piece(reinterpret_cast<const char*>(input.data()),
                                input.size() * sizeof(float));
  BatchActivationCounts counts;
  for (auto _ : state) {
    auto out = (*context)->Run({piece}, rows, with_counts ? &counts : nullptr);
    if (!out.ok()) {
      state.SkipWithError(out.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(out->data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * rows);
}

void BM_Mlp256(benchmark::State& state) {
  static const auto* model =
      new std::shared_ptr<const CompiledMlp>(Compile(LeakyMlp(256, {512, 512, 10}), 512));
  RunBenchmark(state, *model);
}
BENCHMARK(BM_Mlp256)->ArgNames({"batch", "counts"})->ArgsProduct({{1, 8, 64, 512}, {0, 1}});

void BM_Tiny(benchmark::State& state) {
  static const auto* model =
      new std::shared_ptr<const CompiledMlp>(Compile(LeakyMlp(16, {32, 32, 4}), 64));
  RunBenchmark(state, *model);
}
BENCHMARK(BM_Tiny)->ArgNames({"batch", "counts"})->ArgsProduct({{1}, {0, 1}});

}  // namespace
}  // namespace mlpserve

BENCHMARK_MAIN();

// ExecutionContext::Run throughput in rows per second (items_per_second), with
// activation counting off (counts=0) and on (counts=1).
//
//   BM_Mlp256/batch:B/counts:C  256 -> 512 -> 512 -> 10, Leaky ReLU 0.01,
//                               max_batch_size 512, one oneDNN thread
//   BM_Tiny/batch:1/counts:C    16 -> 32 -> 32 -> 4, Leaky ReLU 0.01
//   BM_Onnx/NAME/batch:B/counts:C
//                               an ONNX file given with --onnx=PATH (repeatable),
//                               imported with ImportOnnxFile exactly as the
//                               server does, compiled with max_batch_size =
//                               the largest of --onnx_batches, one oneDNN thread.
//                               NAME is the model folder (REPO/NAME/1/model.onnx).
//
// Run: build/bin/engine_bench [--benchmark_repetitions=5]
//      build/bin/engine_bench --onnx=REPO/medium/1/model.onnx
//          [--onnx_batches=1,8,64,512] [--onnx_counts=0,1] --benchmark_filter=BM_Onnx
// (bench/run_benchmarks.sh uses the second form for the serving comparisons.)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "server/engine/activation_counts.h"
#include "server/engine/compiled_mlp.h"
#include "server/model/mlp.h"
#include "server/model/onnx_import.h"

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

// --onnx=PATH, --onnx_batches=LIST, --onnx_counts=LIST: removed from argv
// before Google Benchmark parses the rest.
struct OnnxFlags {
  std::vector<std::string> paths;
  std::vector<int64_t> batches = {1, 8, 64, 512};
  std::vector<int64_t> counts = {0, 1};
};

std::vector<int64_t> ParseList(const char* text) {
  std::vector<int64_t> values;
  for (const char* p = text; *p != '\0';) {
    char* end = nullptr;
    values.push_back(std::strtoll(p, &end, 10));
    if (end == p) break;
    p = (*end == ',') ? end + 1 : end;
  }
  return values;
}

OnnxFlags TakeOnnxFlags(int* argc, char** argv) {
  OnnxFlags flags;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    const char* arg = argv[i];
    if (std::strncmp(arg, "--onnx=", 7) == 0) {
      flags.paths.emplace_back(arg + 7);
    } else if (std::strncmp(arg, "--onnx_batches=", 15) == 0) {
      flags.batches = ParseList(arg + 15);
    } else if (std::strncmp(arg, "--onnx_counts=", 14) == 0) {
      flags.counts = ParseList(arg + 14);
    } else {
      argv[kept++] = argv[i];
    }
  }
  *argc = kept;
  return flags;
}

// Imports and compiles each file; exits with the importer's message on error.
void RegisterOnnxBenchmarks(const OnnxFlags& flags) {
  if (flags.paths.empty() || flags.batches.empty()) return;
  const int64_t max_batch = *std::max_element(flags.batches.begin(), flags.batches.end());
  for (const std::string& path : flags.paths) {
    absl::StatusOr<Mlp> mlp = ImportOnnxFile(path);
    if (!mlp.ok()) {
      std::fprintf(stderr, "%s\n", mlp.status().ToString().c_str());
      std::exit(1);
    }
    const std::string name =
        std::filesystem::path(path).parent_path().parent_path().filename().string();
    auto model = Compile(*std::move(mlp), max_batch);
    benchmark::RegisterBenchmark(("BM_Onnx/" + name).c_str(),
                                 [model](benchmark::State& state) { RunBenchmark(state, model); })
        ->ArgNames({"batch", "counts"})
        ->ArgsProduct({flags.batches, flags.counts});
  }
}

}  // namespace
}  // namespace mlpserve

int main(int argc, char** argv) {
  const mlpserve::OnnxFlags onnx_flags = mlpserve::TakeOnnxFlags(&argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  mlpserve::RegisterOnnxBenchmarks(onnx_flags);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

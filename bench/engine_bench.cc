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
//   BM_CountingAB/NAME/batch:B  the same model, activation counting off and on
//                               as a paired A/B: counter overhead_pct is the
//                               median over back-to-back pairs of slices.
//   BM_ColdRun/NAME/batch:B     one run (counting on, as served) after the
//                               caches were flushed: what a request pays when
//                               gRPC and the client ran on the core in between.
//
// Run: build/bin/engine_bench [--benchmark_repetitions=5]
//      build/bin/engine_bench --onnx=REPO/medium/1/model.onnx
//          [--onnx_batches=1,8,64,512] [--onnx_counts=0,1] --benchmark_filter=BM_Onnx
// (bench/run_benchmarks.sh uses the second form for the serving comparisons.)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
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

// An execution context for `model` and a fixed random input of `rows` rows.
struct Workload {
  std::unique_ptr<ExecutionContext> context;
  std::vector<float> input;

  absl::string_view piece() const {
    return absl::string_view(reinterpret_cast<const char*>(input.data()),
                             input.size() * sizeof(float));
  }
};

// Nullopt (and the benchmark skipped with the error) when the context fails.
std::optional<Workload> MakeWorkload(benchmark::State& state,
                                     const std::shared_ptr<const CompiledMlp>& model,
                                     int64_t rows) {
  auto context = ExecutionContext::Create(model, ExecutionContext::Options{});
  if (!context.ok()) {
    state.SkipWithError(context.status().ToString().c_str());
    return std::nullopt;
  }
  Workload workload{*std::move(context), std::vector<float>(rows * model->input_features())};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& v : workload.input) v = dist(rng);
  return workload;
}

void RunBenchmark(benchmark::State& state, const std::shared_ptr<const CompiledMlp>& model) {
  const int64_t rows = state.range(0);
  const bool with_counts = state.range(1) != 0;
  std::optional<Workload> workload = MakeWorkload(state, model, rows);
  if (!workload) return;
  const absl::string_view piece = workload->piece();
  BatchActivationCounts counts;
  for (auto _ : state) {
    auto out = workload->context->Run({piece}, rows, with_counts ? &counts : nullptr);
    if (!out.ok()) {
      state.SkipWithError(out.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(out->data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * rows);
}

// Activation counting off vs on as a paired A/B. Each iteration times one
// slice of batches with counting off and one with it on, back to back (the
// order alternates from pair to pair), each slice about 2 ms: a change in the
// machine's speed (other tenants on a shared VM swing it by 30% between runs
// of a minute) hits both halves of a pair alike, which separate medians of
// interleaved repetitions cannot promise. Counters: overhead_pct, the median
// over pairs of (time on / time off - 1) in percent, and the pairs behind it.
void RunCountingAB(benchmark::State& state, const std::shared_ptr<const CompiledMlp>& model) {
  using SteadyClock = std::chrono::steady_clock;
  const int64_t rows = state.range(0);
  std::optional<Workload> workload = MakeWorkload(state, model, rows);
  if (!workload) return;
  const absl::string_view piece = workload->piece();
  BatchActivationCounts counts;
  bool failed = false;
  // Seconds for `n` runs, counting on or off.
  auto slice = [&](int64_t n, bool with_counts) {
    const SteadyClock::time_point start = SteadyClock::now();
    for (int64_t i = 0; i < n; ++i) {
      auto out = workload->context->Run({piece}, rows, with_counts ? &counts : nullptr);
      if (!out.ok()) {
        if (!failed) state.SkipWithError(out.status().ToString().c_str());
        failed = true;
        return 1.0;
      }
      benchmark::DoNotOptimize(out->data());
    }
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
  };
  slice(8, true);  // warm-up: first use of the counts buffers
  const double one_run = slice(8, false) / 8;
  const int64_t per_slice = std::max<int64_t>(1, static_cast<int64_t>(2e-3 / one_run));
  std::vector<double> overheads;
  for (auto _ : state) {
    const bool on_first = overheads.size() % 2 == 1;
    double on = 0;
    double off = 0;
    if (on_first) on = slice(per_slice, true);
    off = slice(per_slice, false);
    if (!on_first) on = slice(per_slice, true);
    if (failed) return;
    overheads.push_back(on / off - 1);
  }
  std::nth_element(overheads.begin(), overheads.begin() + overheads.size() / 2, overheads.end());
  state.counters["overhead_pct"] = 100 * overheads[overheads.size() / 2];
  state.counters["pairs"] = static_cast<double>(overheads.size());
  state.SetItemsProcessed(state.iterations() * 2 * per_slice * rows);
}

// One Run per iteration, each after writing a buffer larger than the last
// level cache, timed alone (manual time): the engine as a request that finds
// none of oneDNN's code, primitive descriptors or weights in cache sees it.
// A fixed kColdRuns iterations: each flush takes milliseconds.
constexpr int64_t kColdRuns = 500;

void RunCold(benchmark::State& state, const std::shared_ptr<const CompiledMlp>& model) {
  using SteadyClock = std::chrono::steady_clock;
  constexpr size_t kFlushBytes = size_t{64} << 20;
  const int64_t rows = state.range(0);
  std::optional<Workload> workload = MakeWorkload(state, model, rows);
  if (!workload) return;
  const absl::string_view piece = workload->piece();
  BatchActivationCounts counts;
  std::vector<char> flush(kFlushBytes);
  char fill = 0;
  for (auto _ : state) {
    std::memset(flush.data(), ++fill, flush.size());
    benchmark::ClobberMemory();
    const SteadyClock::time_point start = SteadyClock::now();
    auto out = workload->context->Run({piece}, rows, &counts);
    const SteadyClock::time_point end = SteadyClock::now();
    if (!out.ok()) {
      state.SkipWithError(out.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(out->data());
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
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
    // The kernels behind every figure: JSON "context", e.g. "onednn/tiny":
    // "matmul brg:avx512_core" (gemm:jit on a CPU without AVX-512).
    benchmark::AddCustomContext("onednn/" + name, model->implementations());
    benchmark::RegisterBenchmark(("BM_Onnx/" + name).c_str(),
                                 [model](benchmark::State& state) { RunBenchmark(state, model); })
        ->ArgNames({"batch", "counts"})
        ->ArgsProduct({flags.batches, flags.counts});
    benchmark::RegisterBenchmark(("BM_CountingAB/" + name).c_str(),
                                 [model](benchmark::State& state) { RunCountingAB(state, model); })
        ->ArgNames({"batch"})
        ->ArgsProduct({flags.batches});
    benchmark::RegisterBenchmark(("BM_ColdRun/" + name).c_str(),
                                 [model](benchmark::State& state) { RunCold(state, model); })
        ->ArgNames({"batch"})
        ->ArgsProduct({flags.batches})
        ->UseManualTime()
        ->Iterations(kColdRuns);  // manual time is µs per flush of ms: no min_time
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

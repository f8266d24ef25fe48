// Memory across model load/unload cycles: loads a copy of a bundled model,
// then unloads and reloads it N times, printing the process RSS before and
// after. A leak in loading (ONNX import, oneDNN primitives, executor threads,
// metric series) shows as growth proportional to N.
//
//   lifecycle_rss [--cycles 100] [--model models/leaky_mlp]
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/time/clock.h"
#include "server/metrics/metrics_registry.h"
#include "server/repository/model_repository.h"
#include "spdlog/spdlog.h"

namespace {

double RssMiB() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

// Bytes the allocator has handed out and not had back (every arena, plus
// mmap-ed blocks): growth here is a leak, RSS growth without it is
// fragmentation or caches.
double HeapInUseMiB() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<double>(info.uordblks + info.hblkhd) / (1 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"RSS across model load/unload cycles"};
  int cycles = 100;
  std::string model_dir = "models/leaky_mlp";
  app.add_option("--cycles", cycles, "Unload/load cycles")->capture_default_str();
  app.add_option("--model", model_dir, "Model folder to copy and cycle")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  namespace fs = std::filesystem;
  if (std::error_code ec; !fs::is_directory(model_dir, ec)) {
    std::fprintf(stderr, "no model folder %s (run from the repository root or pass --model)\n",
                 model_dir.c_str());
    return 1;
  }
  const fs::path root = fs::temp_directory_path() / ("lifecycle_rss_" + std::to_string(getpid()));
  fs::create_directories(root);
  const std::string name = fs::path(model_dir).filename().string();
  fs::copy(model_dir, root / name, fs::copy_options::recursive);
  auto metrics = mlpserve::MetricsRegistry::Create();
  mlpserve::ModelRepository::Options options;
  options.root = root.string();
  options.metrics = metrics->get();
  auto repository = mlpserve::ModelRepository::Create(options);
  if (!repository.ok() || !(*repository)->LoadModel(name).ok()) {
    std::fprintf(stderr, "cannot load %s\n", model_dir.c_str());
    return 1;
  }
  // Warm-up cycles: first-use allocations (allocator arenas, oneDNN caches).
  for (int i = 0; i < 5; ++i) {
    (*repository)->UnloadModel(name).IgnoreError();
    (*repository)->LoadModel(name).IgnoreError();
  }
  absl::SleepFor(absl::Milliseconds(200));  // let the reaper retire the last ones
  const double before = RssMiB();
  const double heap_before = HeapInUseMiB();
  const absl::Time start = absl::Now();
  // Runs cycles [from, to), then lets the reaper retire the last version.
  auto run = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      if (!(*repository)->UnloadModel(name).ok() || !(*repository)->LoadModel(name).ok()) {
        std::fprintf(stderr, "cycle %d failed\n", i);
        return false;
      }
    }
    absl::SleepFor(absl::Milliseconds(200));
    return true;
  };
  // Two halves: growth that stops after the first half is one-time (a
  // container reaching its size, a cache filling), growth that goes on in
  // the second half is per cycle.
  const int half = cycles / 2;
  if (!run(0, half)) return 1;
  const double heap_half = HeapInUseMiB();
  if (!run(half, cycles)) return 1;
  const double after = RssMiB();
  const double heap_after = HeapInUseMiB();
  std::printf("model %s: %d unload/load cycles in %.1f s\n", model_dir.c_str(), cycles,
              absl::ToDoubleSeconds(absl::Now() - start));
  std::printf("RSS before %.1f MiB, after %.1f MiB, growth %+.1f%%\n", before, after,
              100.0 * (after - before) / before);
  std::printf(
      "heap in use before %.2f MiB, after %d cycles %.2f MiB, after %d %.2f MiB "
      "(%+.0f bytes per cycle over the first half, %+.0f over the second)\n",
      heap_before, half, heap_half, cycles, heap_after,
      (heap_half - heap_before) * (1 << 20) / std::max(half, 1),
      (heap_after - heap_half) * (1 << 20) / std::max(cycles - half, 1));
  repository->reset();
  fs::remove_all(root);
  return 0;
}

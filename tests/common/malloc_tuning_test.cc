// TuneMallocForServing against glibc's own accounting (mallinfo2): a 512 KiB
// block is mapped on its own and unmapped on free with the defaults, and
// taken from and kept in the heap once tuned; 4 MiB blocks stay mapped.
#include "server/common/malloc_tuning.h"

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/barrier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpserve {
namespace {

using ::testing::HasSubstr;

constexpr size_t kBlock = size_t{512} << 10;     // above glibc's default mmap threshold, 128 KiB
constexpr size_t kLargeBlock = size_t{4} << 20;  // above the tuned one, 1 MiB

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SKIP_UNDER_SANITIZER() GTEST_SKIP() << "the sanitizer's allocator replaces glibc malloc"
#else
#define SKIP_UNDER_SANITIZER() (void)0
#endif

// mallopt is process-wide: once a case has tuned, the cases about the
// defaults skip (ctest runs every case in a process of its own).
bool tuned_in_this_process = false;
#define SKIP_IF_TUNED() \
  if (tuned_in_this_process) GTEST_SKIP() << "run alone: this process is already tuned"

struct BlockAccounting {
  size_t mapped_blocks_while_live;  // mmapped blocks while the block is allocated
  size_t mapped_blocks_before;
  size_t heap_free_after;  // free bytes kept in the heap after free()
};

BlockAccounting AllocateTouchFree(size_t bytes = kBlock) {
  BlockAccounting a{};
  a.mapped_blocks_before = mallinfo2().hblks;
  // Through a volatile pointer: the compiler may not elide the malloc/free.
  void* volatile block = std::malloc(bytes);
  std::memset(block, 1, bytes);
  a.mapped_blocks_while_live = mallinfo2().hblks;
  std::free(block);
  a.heap_free_after = mallinfo2().fordblks;
  return a;
}

TEST(MallocTuningTest, ReferenceDefaultsMapLargeBlocksOnTheirOwn) {
  SKIP_UNDER_SANITIZER();
  SKIP_IF_TUNED();
  const BlockAccounting a = AllocateTouchFree();
  EXPECT_EQ(a.mapped_blocks_while_live, a.mapped_blocks_before + 1);
  EXPECT_LT(a.heap_free_after, kBlock);
}

TEST(MallocTuningTest, TunedLargeBlocksComeFromAndStayInTheHeap) {
  SKIP_UNDER_SANITIZER();
  const MallocTuning tuning = TuneMallocForServing(nullptr);
  tuned_in_this_process = true;
  ASSERT_TRUE(tuning.applied) << tuning.detail;
  EXPECT_THAT(tuning.detail, HasSubstr("mmap threshold 1 MiB, trim threshold 2 MiB"));
  const BlockAccounting a = AllocateTouchFree();
  EXPECT_EQ(a.mapped_blocks_while_live, a.mapped_blocks_before);
  EXPECT_GE(a.heap_free_after, kBlock);  // kept for the next request, not given back
  // Blocks of 1 MiB and more keep mappings of their own (no arena fragmentation).
  const BlockAccounting large = AllocateTouchFree(kLargeBlock);
  EXPECT_EQ(large.mapped_blocks_while_live, large.mapped_blocks_before + 1);
}

// Arenas glibc has made so far (malloc_info lists one <heap> per arena),
// after `threads` threads each held a small block at the same time.
int ArenasAfterConcurrentThreads(int threads) {
  absl::Barrier* all_allocated = new absl::Barrier(threads);  // deleted by the last one out
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([all_allocated] {
      void* volatile block = std::malloc(64);
      if (all_allocated->Block()) delete all_allocated;
      std::free(block);
    });
  }
  for (std::thread& t : pool) t.join();
  char* text = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&text, &size);
  malloc_info(0, out);
  std::fclose(out);
  const std::string info(text, size);
  std::free(text);
  int arenas = 0;
  for (size_t at = info.find("<heap nr="); at != std::string::npos;
       at = info.find("<heap nr=", at + 1)) {
    ++arenas;
  }
  return arenas;
}

TEST(MallocTuningTest, ReferenceDefaultsGiveEachConcurrentThreadAnArena) {
  SKIP_UNDER_SANITIZER();
  SKIP_IF_TUNED();
  EXPECT_GT(ArenasAfterConcurrentThreads(MallocArenaLimit() + 4), MallocArenaLimit());
}

TEST(MallocTuningTest, TunedArenasStayWithinTheLimit) {
  SKIP_UNDER_SANITIZER();
  const MallocTuning tuning = TuneMallocForServing(nullptr);
  tuned_in_this_process = true;
  ASSERT_TRUE(tuning.applied) << tuning.detail;
  EXPECT_THAT(tuning.detail,
              HasSubstr("at most " + std::to_string(MallocArenaLimit()) + " arenas"));
  EXPECT_LE(ArenasAfterConcurrentThreads(MallocArenaLimit() + 4), MallocArenaLimit());
}

TEST(MallocTuningTest, OperatorMallocTunablesWin) {
  SKIP_UNDER_SANITIZER();
  SKIP_IF_TUNED();
  const MallocTuning tuning = TuneMallocForServing("glibc.malloc.arena_max=2");
  EXPECT_FALSE(tuning.applied);
  EXPECT_THAT(tuning.detail, HasSubstr("GLIBC_TUNABLES"));
  const BlockAccounting a = AllocateTouchFree();
  EXPECT_EQ(a.mapped_blocks_while_live, a.mapped_blocks_before + 1);  // defaults untouched
}

TEST(MallocTuningTest, OtherTunablesDoNotStopTuning) {
  SKIP_UNDER_SANITIZER();
  EXPECT_TRUE(TuneMallocForServing("glibc.cpu.hwcaps=-AVX512F").applied);
  tuned_in_this_process = true;
}

}  // namespace
}  // namespace mlpserve

// glibc malloc settings for a process that moves large messages.
//
// glibc's defaults cost a server that receives large tensors twice:
//
//  * Its mmap threshold is dynamic: each free of a mapped block raises it, so
//    megabyte-sized request buffers end up in the per-thread arenas and
//    fragment them (under mixed traffic RSS crept up ~25% in 100 s of
//    `make soak`). A fixed 1 MiB threshold keeps blocks of 1 MiB and more in
//    mappings of their own, returned to the kernel when freed.
//  * Its trim threshold (128 KiB) makes every free that leaves that much at
//    the top of a thread's heap give it back (madvise), so the next request
//    faults the same pages in again. For the bench's medium model (512 KiB
//    per 512-row request: gRPC's receive buffers, the parsed message, the
//    gathered batch) at concurrency 2 on a 2-core VM: 6.4 ms of server CPU
//    per request and 117k rows/s with the default, 3.4 ms and 185k rows/s
//    with 2 MiB, 3.0 ms and 188k rows/s with 8 MiB, for 2.4 ms of oneDNN
//    compute. 64 MiB made `make soak` fail its RSS bound (+8.7% in 270 s:
//    every malloc arena keeps its own high-water mark); 2 MiB passes it
//    (+1.1%).
//
// The cost of the second setting is resident memory: up to 2 MiB of freed
// blocks per malloc arena stay with the process. So, third, the number of
// arenas is capped at one per core (at least 2) instead of glibc's 8 per
// core: more threads than cores never run at once, and every extra arena
// keeps its own free blocks. On a 2-core VM, 300 s of `make soak`: with
// glibc's cap the server had 15 thread arenas after 2.5 min and its RSS
// grew 57.6 -> 63.4 MiB after the warm-up (+10%, and 53.8 -> 63.9 MiB over
// 600 s); with 2 arenas it stayed at 48.3 -> 49.3 MiB (+2.1%) and served
// as many valid calls (1,037,967 against 1,013,765).
//
// An operator who sets any glibc.malloc.* tunable in GLIBC_TUNABLES keeps
// full control: then nothing is changed.
//
// Call once, early in main(), before other threads start.
#ifndef MLPSERVE_SERVER_COMMON_MALLOC_TUNING_H_
#define MLPSERVE_SERVER_COMMON_MALLOC_TUNING_H_

#include <cstddef>
#include <string>

namespace mlpserve {

struct MallocTuning {
  bool applied = false;
  std::string detail;  // what was set, or why nothing was; for the start-up log
};

inline constexpr size_t kMallocMmapThreshold = size_t{1} << 20;
inline constexpr size_t kMallocTrimThreshold = size_t{2} << 20;

// The arena cap TuneMallocForServing sets: max(2, UsableCpus()), the cores
// this process may use (affinity mask, cgroup CPU quota), not the machine's.
int MallocArenaLimit();

// `glibc_tunables`: the process's GLIBC_TUNABLES (nullptr when unset).
MallocTuning TuneMallocForServing(const char* glibc_tunables);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_COMMON_MALLOC_TUNING_H_

#include "server/common/malloc_tuning.h"

#include <malloc.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/common/usable_cpus.h"

namespace mlpserve {

int MallocArenaLimit() { return std::max(2, UsableCpus()); }

MallocTuning TuneMallocForServing(const char* glibc_tunables) {
  MallocTuning result;
  if (glibc_tunables != nullptr && std::strstr(glibc_tunables, "glibc.malloc.") != nullptr) {
    result.detail = "malloc: left as GLIBC_TUNABLES sets it";
    return result;
  }
  const int arena_limit = MallocArenaLimit();  // reads /proc and /sys: once
  // mallopt returns 1 on success, 0 on error (a value out of range).
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMallocMmapThreshold)) != 1 ||
      mallopt(M_TRIM_THRESHOLD, static_cast<int>(kMallocTrimThreshold)) != 1 ||
      mallopt(M_ARENA_MAX, arena_limit) != 1) {
    result.detail =
        "malloc: mallopt refused a setting (another allocator?); it and the ones after it keep "
        "glibc's defaults";
    return result;
  }
  result.applied = true;
  result.detail =
      absl::StrCat("malloc: mmap threshold ", kMallocMmapThreshold >> 20, " MiB, trim threshold ",
                   kMallocTrimThreshold >> 20, " MiB, at most ", arena_limit,
                   " arenas (GLIBC_TUNABLES glibc.malloc.* overrides)");
  return result;
}

}  // namespace mlpserve

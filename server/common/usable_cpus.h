// How many CPUs this process can keep busy, for sizing per-core resources
// (malloc arenas, inline execution contexts).
//
// std::thread::hardware_concurrency() counts the machine's online CPUs: in a
// container limited to 2 CPUs on a 64-core node it says 64. UsableCpus takes
// the fewest of the CPUs the affinity mask allows (cpusets, taskset) and the
// CPU quota of the process's cgroup (Kubernetes' limits.cpu), rounded up.
#ifndef MLPSERVE_SERVER_COMMON_USABLE_CPUS_H_
#define MLPSERVE_SERVER_COMMON_USABLE_CPUS_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace mlpserve {

// At least 1.
int UsableCpus();

// The CPU quota, rounded up to whole CPUs, that the cgroups in
// `proc_self_cgroup` (the text of /proc/self/cgroup) impose under the
// cgroup file system mounted at `cgroup_root`: cgroup v2 cpu.max ("QUOTA
// PERIOD" or "max PERIOD") or v1 cpu.cfs_quota_us / cpu.cfs_period_us, the
// tightest of the process's cgroup and its ancestors. nullopt when no quota
// is set or none can be read.
std::optional<int> CgroupCpuQuota(const std::string& cgroup_root,
                                  absl::string_view proc_self_cgroup);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_COMMON_USABLE_CPUS_H_

#include "server/common/usable_cpus.h"

#include <sched.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace mlpserve {
namespace {

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// ceil(quota / period) CPUs; nullopt for no quota.
std::optional<int> QuotaCpus(int64_t quota_us, int64_t period_us) {
  if (quota_us <= 0 || period_us <= 0) return std::nullopt;
  return static_cast<int>(std::max<int64_t>(1, (quota_us + period_us - 1) / period_us));
}

// cgroup v2 cpu.max: "QUOTA PERIOD", QUOTA "max" when unlimited.
std::optional<int> ParseCpuMax(absl::string_view text) {
  const std::vector<absl::string_view> fields =
      absl::StrSplit(absl::StripAsciiWhitespace(text), ' ', absl::SkipEmpty());
  int64_t quota = 0;
  int64_t period = 0;
  if (fields.size() != 2 || !absl::SimpleAtoi(fields[0], &quota) ||
      !absl::SimpleAtoi(fields[1], &period)) {
    return std::nullopt;
  }
  return QuotaCpus(quota, period);
}

std::optional<int> ReadV1Quota(const std::string& dir) {
  std::optional<std::string> quota_text = ReadSmallFile(dir + "/cpu.cfs_quota_us");
  std::optional<std::string> period_text = ReadSmallFile(dir + "/cpu.cfs_period_us");
  int64_t quota = 0;
  int64_t period = 0;
  if (!quota_text || !period_text ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(*quota_text), &quota) ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(*period_text), &period)) {
    return std::nullopt;
  }
  return QuotaCpus(quota, period);
}

// `path` ("/a/b") and its ancestors up to "/", each appended to `mount`.
std::vector<std::string> SelfAndAncestors(const std::string& mount, std::string path) {
  std::vector<std::string> dirs;
  while (true) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    dirs.push_back(path == "/" || path.empty() ? mount : mount + path);
    if (path == "/" || path.empty()) return dirs;
    const size_t parent_end = path.rfind('/');
    path.resize(parent_end == 0 ? 1 : parent_end);
  }
}

void KeepTightest(std::optional<int> quota, std::optional<int>* tightest) {
  if (quota && (!*tightest || *quota < **tightest)) *tightest = quota;
}

}  // namespace

std::optional<int> CgroupCpuQuota(const std::string& cgroup_root,
                                  absl::string_view proc_self_cgroup) {
  std::optional<int> tightest;
  for (absl::string_view line : absl::StrSplit(proc_self_cgroup, '\n', absl::SkipEmpty())) {
    // "ID:CONTROLLERS:PATH"; v2 is "0::PATH".
    const std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (parts.size() != 3 || parts[2].empty() || parts[2][0] != '/') continue;
    const std::string path(parts[2]);
    if (parts[0] == "0" && parts[1].empty()) {
      // v2: mounted at the root itself (pure v2), or at <root>/unified (hybrid).
      for (const std::string& mount : {cgroup_root, cgroup_root + "/unified"}) {
        for (const std::string& dir : SelfAndAncestors(mount, path)) {
          if (std::optional<std::string> text = ReadSmallFile(dir + "/cpu.max")) {
            KeepTightest(ParseCpuMax(*text), &tightest);
          }
        }
      }
      continue;
    }
    const std::vector<absl::string_view> controllers = absl::StrSplit(parts[1], ',');
    if (std::find(controllers.begin(), controllers.end(), "cpu") == controllers.end()) continue;
    for (const std::string& mount :
         {cgroup_root + "/cpu", cgroup_root + "/cpu,cpuacct", cgroup_root + "/cpuacct,cpu"}) {
      for (const std::string& dir : SelfAndAncestors(mount, path)) {
        KeepTightest(ReadV1Quota(dir), &tightest);
      }
    }
  }
  return tightest;
}

int UsableCpus() {
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) {
    const int allowed = CPU_COUNT(&mask);
    if (allowed > 0 && (cpus <= 0 || allowed < cpus)) cpus = allowed;
  }
  if (std::optional<std::string> self = ReadSmallFile("/proc/self/cgroup")) {
    std::optional<int> quota = CgroupCpuQuota("/sys/fs/cgroup", *self);
    if (quota && (cpus <= 0 || *quota < cpus)) cpus = *quota;
  }
  return std::max(1, cpus);
}

}  // namespace mlpserve

// UsableCpus and the cgroup quota it reads, against fake cgroup trees.
#include "server/common/usable_cpus.h"

#include <sched.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace mlpserve {
namespace {

namespace fs = std::filesystem;

class CgroupCpuQuotaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/usable_cpus_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& relative, const std::string& text) {
    const fs::path path = fs::path(root_) / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

  std::string root_;
};

TEST_F(CgroupCpuQuotaTest, V2TakesTheTightestOfTheCgroupAndItsAncestors) {
  Write("cpu.max", "max 100000\n");
  Write("kubepods/cpu.max", "800000 100000\n");
  Write("kubepods/pod1/cpu.max", "150000 100000\n");  // 1.5 CPUs: 2
  Write("kubepods/pod1/c1/cpu.max", "max 100000\n");
  EXPECT_EQ(CgroupCpuQuota(root_, "0::/kubepods/pod1/c1\n"), 2);
  Write("kubepods/cpu.max", "100000 100000\n");  // an ancestor's 1 CPU binds
  EXPECT_EQ(CgroupCpuQuota(root_, "0::/kubepods/pod1/c1\n"), 1);
}

TEST_F(CgroupCpuQuotaTest, V2InACgroupNamespaceReadsTheRoot) {
  Write("cpu.max", "200000 100000\n");
  EXPECT_EQ(CgroupCpuQuota(root_, "0::/\n"), 2);
}

TEST_F(CgroupCpuQuotaTest, HybridHierarchyReadsUnified) {
  Write("unified/svc/cpu.max", "300000 100000\n");
  EXPECT_EQ(CgroupCpuQuota(root_, "1:name=systemd:/svc\n0::/svc\n"), 3);
}

TEST_F(CgroupCpuQuotaTest, V1CfsQuotaUnderEitherMountName) {
  Write("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "250000\n");
  Write("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(CgroupCpuQuota(root_, "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n"), 3);
  Write("cpu/cpu.cfs_quota_us", "-1\n");
  Write("cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(CgroupCpuQuota(root_, "2:cpu:/\n"), std::nullopt);
}

TEST_F(CgroupCpuQuotaTest, NoQuotaOrNothingReadableIsNullopt) {
  Write("cpu.max", "max 100000\n");
  EXPECT_EQ(CgroupCpuQuota(root_, "0::/\n"), std::nullopt);
  EXPECT_EQ(CgroupCpuQuota(root_, "0::/missing/cgroup\n"), std::nullopt);
  Write("bad/cpu.max", "lots\n");
  EXPECT_EQ(CgroupCpuQuota(root_, "0::/bad\n"), std::nullopt);
  EXPECT_EQ(CgroupCpuQuota(root_, ""), std::nullopt);
  EXPECT_EQ(CgroupCpuQuota(root_ + "/nope", "0::/\n"), std::nullopt);
}

TEST(UsableCpusTest, FollowsTheAffinityMask) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  const int allowed = CPU_COUNT(&saved);
  EXPECT_GE(UsableCpus(), 1);
  EXPECT_LE(UsableCpus(), allowed);
  if (allowed < 2) GTEST_SKIP() << "one CPU: nothing to narrow";
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &saved)) {
      CPU_SET(cpu, &one);
      break;
    }
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const int narrowed = UsableCpus();
  ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
  EXPECT_EQ(narrowed, 1);
  EXPECT_GT(static_cast<int>(std::thread::hardware_concurrency()), narrowed);
}

}  // namespace
}  // namespace mlpserve

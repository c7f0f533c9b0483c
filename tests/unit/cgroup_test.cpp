// The cgroup plans (cgroup_plan.hpp): mode decision, /proc/PID/cgroup, the
// limit files and their texts. No root, no cgroup file system needed.
#include <linux/magic.h>

#include <gtest/gtest.h>

#include "nslab/cgroup_plan.hpp"
#include "nslab/errors.hpp"

using namespace nslab;
using namespace nslab::cgroupfs;

TEST(CgroupMode, FromStatfs) {
    EXPECT_EQ(decide_mode(CGROUP2_SUPER_MAGIC, std::nullopt), Mode::unified);
    EXPECT_EQ(decide_mode(TMPFS_MAGIC, CGROUP2_SUPER_MAGIC), Mode::hybrid);
    EXPECT_EQ(decide_mode(TMPFS_MAGIC, std::nullopt), Mode::legacy);
    // An ordinary directory named unified/ does not make a hybrid.
    EXPECT_EQ(decide_mode(TMPFS_MAGIC, TMPFS_MAGIC), Mode::legacy);
}

TEST(CgroupProcFile, V2) {
    auto lines = parse_proc_cgroup("0::/nslab/ab12cd34-77\n");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], (ProcCgroupLine{0, {}, "/nslab/ab12cd34-77"}));
}

TEST(CgroupProcFile, V1HybridWithCoMountedAndNamedHierarchies) {
    auto lines =
        parse_proc_cgroup("9:name=systemd:/\n4:memory:/nslab/x-1\n2:cpu,cpuacct:/a:b\n0::/\n");
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0].controllers, std::vector<std::string>{"name=systemd"});
    EXPECT_EQ(lines[1], (ProcCgroupLine{4, {"memory"}, "/nslab/x-1"}));
    EXPECT_EQ(lines[2].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
    EXPECT_EQ(lines[2].path, "/a:b") << "a path may hold ':'";
    EXPECT_EQ(lines[3], (ProcCgroupLine{0, {}, "/"}));
    // Outside the reader's cgroup namespace root, paths climb with "..".
    EXPECT_EQ(parse_proc_cgroup("0::/../../nslab/y-2")[0].path, "/../../nslab/y-2");
}

TEST(CgroupProcFile, RefusesGarbage) {
    EXPECT_THROW(parse_proc_cgroup("memory:/x\n"), std::runtime_error);
    EXPECT_THROW(parse_proc_cgroup("x:memory:/\n"), std::runtime_error);
}

TEST(CgroupFlatKeyed, MemoryEventsAndOomControl) {
    auto v2 = parse_flat_keyed("low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n");
    EXPECT_EQ(v2["oom_kill"], 1u);
    EXPECT_EQ(v2["max"], 12u);
    auto v1 = parse_flat_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    EXPECT_EQ(v1["oom_kill"], 3u);
    auto stat = parse_flat_keyed("usage_usec 100\nnr_periods 20\nnr_throttled 19\n");
    EXPECT_EQ(stat["nr_throttled"], 19u);
    EXPECT_EQ(parse_flat_keyed("").count("oom_kill"), 0u);
}

TEST(CgroupCpu, QuotaFromCpus) {
    EXPECT_EQ(cpu_max(0.2), "20000 100000");
    EXPECT_EQ(cpu_max(0.5), "50000 100000");
    EXPECT_EQ(cpu_max(2), "200000 100000");
    EXPECT_EQ(cpu_max(1.0 / 3), "33333 100000");
    EXPECT_EQ(cpu_quota(0.01).quota_us, 1000u);
}

TEST(CgroupBytes, Human) {
    EXPECT_EQ(human_bytes(64ULL << 20), "64 MiB");
    EXPECT_EQ(human_bytes(1ULL << 30), "1 GiB");
    EXPECT_EQ(human_bytes(1536ULL << 10), "1536 KiB");
    EXPECT_EQ(human_bytes(1000), "1000 bytes");
}

TEST(CgroupLimits, OnlyWhatWasAsked) {
    Config cfg;
    EXPECT_TRUE(v2_limits(cfg).empty());
    EXPECT_TRUE(v1_limits(cfg).empty());
    EXPECT_TRUE(controllers_for(cfg).empty());
    EXPECT_EQ(subtree_control_line({}), "");
    cfg.pids = 20;
    EXPECT_EQ(v2_limits(cfg), (std::vector<LimitWrite>{{"pids", "pids.max", "20"}}));
    EXPECT_EQ(subtree_control_line(controllers_for(cfg)), "+pids");
}

TEST(CgroupLimits, EveryLimitV2AndV1) {
    Config cfg;
    cfg.memory = 64ULL << 20;
    cfg.pids = 20;
    cfg.cpus = 0.2;
    EXPECT_EQ(subtree_control_line(controllers_for(cfg)), "+memory +pids +cpu");
    EXPECT_EQ(v2_limits(cfg), (std::vector<LimitWrite>{
                                  {"memory", "memory.max", "67108864"},
                                  {"memory", "memory.swap.max", "0", true},
                                  {"pids", "pids.max", "20"},
                                  {"cpu", "cpu.max", "20000 100000"},
                              }));
    // v1: the memory limit before memsw (memsw may not be below it), the
    // period before the quota.
    EXPECT_EQ(v1_limits(cfg), (std::vector<LimitWrite>{
                                  {"memory", "memory.limit_in_bytes", "67108864"},
                                  {"memory", "memory.memsw.limit_in_bytes", "67108864", true},
                                  {"pids", "pids.max", "20"},
                                  {"cpu", "cpu.cfs_period_us", "100000"},
                                  {"cpu", "cpu.cfs_quota_us", "20000"},
                              }));
}

TEST(CgroupPaths, ContainerPathAndOwner) {
    EXPECT_EQ(container_path("ab12cd34", 4242), "/nslab/ab12cd34-4242");
    EXPECT_EQ(v2_directory("/nslab/ab12cd34-4242"), "/sys/fs/cgroup/nslab/ab12cd34-4242");
    EXPECT_EQ(owner_of("ab12cd34-4242"), 4242);
    EXPECT_EQ(owner_of("ab12cd34"), std::nullopt);
    EXPECT_EQ(owner_of("ab12cd34-"), std::nullopt);
    EXPECT_EQ(owner_of("ab12cd34-42x"), std::nullopt);
    EXPECT_EQ(owner_of("x-0"), std::nullopt);
}

TEST(CgroupPaths, AncestorsFromTheRootDown) {
    EXPECT_EQ(ancestors("/sys/fs/cgroup", "/nslab/x-1"),
              (std::vector<std::string>{"/sys/fs/cgroup", "/sys/fs/cgroup/nslab"}));
    EXPECT_EQ(ancestors("/r", "/a/b/c"), (std::vector<std::string>{"/r", "/r/a", "/r/a/b"}));
}

TEST(CgroupValidate, CpusAndControllers) {
    Host v2;
    v2.mode = Mode::unified;
    v2.controllers = {"cpu", "memory"};
    Config cfg;
    cfg.cpus = 3;
    try {
        validate(cfg, v2, 2);
        FAIL() << "3 CPUs on a 2-CPU machine";
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(), "invalid value '3' for --cpus: this machine has 2 CPUs");
    }
    cfg.cpus = 0.001;
    EXPECT_THROW(validate(cfg, v2, 2), UsageError);
    cfg.cpus = 1.5;
    EXPECT_NO_THROW(validate(cfg, v2, 2));
    cfg.pids = 5;
    try {
        validate(cfg, v2, 2);
        FAIL() << "no pids controller";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("--pids needs the pids controller"), std::string::npos)
            << e.what();
    }
}

TEST(CgroupHost, HierarchiesAndDirectoriesOfControllers) {
    Host v1;
    v1.mode = Mode::hybrid;
    v1.v1_dirs = {{"cpu", "/sys/fs/cgroup/cpu,cpuacct"},
                  {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct"},
                  {"pids", "/sys/fs/cgroup/pids"}};
    EXPECT_EQ(v1.hierarchies_of({"pids", "cpu", "cpuacct", "memory"}),
              (std::vector<std::string>{"/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu,cpuacct"}));
    EXPECT_EQ(v1.directory("cpu", "/nslab/x-1"), "/sys/fs/cgroup/cpu,cpuacct/nslab/x-1");
    EXPECT_EQ(v1.directory("memory", "/nslab/x-1"), "");  // no such hierarchy
    Host v2;
    v2.mode = Mode::unified;
    EXPECT_EQ(v2.hierarchies_of({"pids", "memory"}), (std::vector<std::string>{"/sys/fs/cgroup"}));
    EXPECT_EQ(v2.directory("memory", "/nslab/x-1"), "/sys/fs/cgroup/nslab/x-1");
}

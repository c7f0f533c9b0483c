#include "nslab/exec_plan.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "nslab/errors.hpp"

using namespace nslab;

TEST(ExecPlan, CloneFlags) {
    EXPECT_EQ(exec_plan::clone_flag("user"), CLONE_NEWUSER);
    EXPECT_EQ(exec_plan::clone_flag("mnt"), CLONE_NEWNS);
    EXPECT_EQ(exec_plan::clone_flag("time"), CLONE_NEWTIME);
    int all = 0;
    for (auto type : exec_plan::namespace_types) all |= exec_plan::clone_flag(type);
    EXPECT_EQ(all, CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET |
                       CLONE_NEWPID | CLONE_NEWTIME | CLONE_NEWNS);
}

namespace {
// A hybrid host (cgroup v1 controllers plus the v2 hierarchy) and a pure v2 host.
constexpr const char* hybrid_mountinfo =
    "25 1 0:22 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
    "27 25 0:24 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,xattr,name=systemd\n"
    "30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw shared:14 - cgroup cgroup rw,cpu,cpuacct\n"
    "31 25 0:28 / /sys/fs/cgroup/pids rw shared:15 - cgroup cgroup rw,pids\n"
    "32 25 0:29 / /sys/fs/cgroup/memory rw shared:16 - cgroup cgroup rw,memory\n";
constexpr const char* v2_mountinfo =
    "25 1 0:22 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
}  // namespace

TEST(ExecPlan, CgroupV1JoinsEveryHierarchyThatDiffers) {
    auto files = exec_plan::cgroup_procs_files(
        "4:memory:/nslab/abc\n3:pids:/nslab/abc\n2:cpu,cpuacct:/\n1:name=systemd:/user\n0::/\n",
        "4:memory:/\n3:pids:/\n2:cpu,cpuacct:/\n1:name=systemd:/user\n0::/\n", hybrid_mountinfo);
    EXPECT_EQ(files, (std::vector<std::string>{"/sys/fs/cgroup/memory/nslab/abc/cgroup.procs",
                                               "/sys/fs/cgroup/pids/nslab/abc/cgroup.procs"}));
}

TEST(ExecPlan, CgroupV2) {
    EXPECT_EQ(exec_plan::cgroup_procs_files("0::/nslab/abc\n", "0::/user.slice\n", v2_mountinfo),
              std::vector<std::string>{"/sys/fs/cgroup/nslab/abc/cgroup.procs"});
    EXPECT_EQ(exec_plan::cgroup_procs_files("0::/\n", "0::/user.slice\n", v2_mountinfo),
              std::vector<std::string>{"/sys/fs/cgroup/cgroup.procs"});
    EXPECT_TRUE(exec_plan::cgroup_procs_files("0::/same\n", "0::/same\n", v2_mountinfo).empty())
        << "a container without a cgroup of its own: nothing to join";
}

TEST(ExecPlan, CgroupWithoutAMountIsAnError) {
    EXPECT_THROW(exec_plan::cgroup_procs_files("5:blkio:/nslab\n", "5:blkio:/\n", hybrid_mountinfo),
                 std::runtime_error);
}

TEST(ExecPlan, TargetFromPidFile) {
    auto path =
        std::filesystem::temp_directory_path() / ("nslab-pid-" + std::to_string(::getpid()));
    Config cfg;
    cfg.target = 42;
    EXPECT_EQ(exec_plan::target_pid(cfg), 42);
    cfg.pid_file = path.string();
    EXPECT_THROW(exec_plan::target_pid(cfg), std::runtime_error) << "no such file";
    std::ofstream(path) << "4321\n";
    EXPECT_EQ(exec_plan::target_pid(cfg), 4321);
    std::ofstream(path) << "soon\n";
    EXPECT_THROW(exec_plan::target_pid(cfg), UsageError);
    std::filesystem::remove(path);
}

// The host's cgroup driver (cgroupfs.hpp) on this machine's cgroups, v1 or
// v2: making a cgroup with limits and removing it, and `nslab cleanup`'s
// removal of empty parents against a cgroup being made. As root only.
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nslab/cgroupfs.hpp"
#include "nslab/errors.hpp"
#include "nslab/sys.hpp"

using namespace nslab;

namespace {

bool can_make_cgroups() {
    return ::geteuid() == 0 && sys::exists(std::string(cgroupfs::mount_point));
}

std::string unit_name() {
    return "nslab-unit-" + std::to_string(::getpid());
}

}  // namespace

TEST(CgroupDriver, MakesWithLimitsAndRemoves) {
    if (!can_make_cgroups()) GTEST_SKIP() << "needs root and /sys/fs/cgroup";
    const cgroupfs::Host& host = cgroupfs::host();
    if (!host.controllers.count("pids")) GTEST_SKIP() << "no pids controller";
    const std::string parent = "/" + unit_name(), path = parent + "/x";
    ScopeGuard remove_parents([&] {
        for (const std::string& hierarchy : host.hierarchies())
            ::rmdir((hierarchy + parent).c_str());
    });
    std::vector<std::string> dirs;
    {
        cgroupfs::CreationLock lock;
        dirs = cgroupfs::make(host, path, {"pids"}, cgroupfs::Existing::refuse,
                              {{"pids", "pids.max", "7"}, {"pids", "no.such.file", "1", true}});
    }
    ASSERT_EQ(dirs.size(), 1u);
    EXPECT_EQ(dirs[0], host.directory("pids", path));
    EXPECT_EQ(sys::read_file(dirs[0] + "/pids.max"), "7\n");
    EXPECT_THROW(cgroupfs::make(host, path, {"pids"}, cgroupfs::Existing::refuse, {}),
                 std::runtime_error);
    EXPECT_TRUE(sys::exists(dirs[0])) << "a refused make must not remove the cgroup it found";
    // A limit the kernel refuses: nothing is left of the new cgroup.
    const std::string refused = parent + "/y";
    EXPECT_THROW(cgroupfs::make(host, refused, {"pids"}, cgroupfs::Existing::refuse,
                                {{"pids", "pids.max", "not a number"}}),
                 std::system_error);
    EXPECT_FALSE(sys::exists(host.directory("pids", refused)));
    cgroupfs::remove(host, path);
    EXPECT_FALSE(sys::exists(dirs[0]));
}

TEST(CgroupDriver, CleanupLeavesAnEmptyParentWhileACgroupIsMade) {
    if (!can_make_cgroups()) GTEST_SKIP() << "needs root and /sys/fs/cgroup";
    const cgroupfs::Host& host = cgroupfs::host();
    const std::string name = unit_name();
    const std::string dir = host.hierarchies().front() + "/" + name;
    sys::mkdir_new(dir, 0755);
    ScopeGuard remove([&] { ::rmdir(dir.c_str()); });
    {
        // A runtime between its mkdir of the parent and of its own cgroup.
        cgroupfs::CreationLock lock;
        EXPECT_EQ(cgroupfs::remove_empty_parents({name}), std::vector<std::string>{});
        EXPECT_TRUE(sys::exists(dir)) << "cleanup removed a parent a cgroup is being made in";
    }
    // Let go: the parent is stale now. Another runtime on this machine may
    // hold its own lock for a moment, so a few tries.
    std::vector<std::string> removed;
    for (int attempt = 0; attempt < 100 && removed.empty(); ++attempt) {
        removed = cgroupfs::remove_empty_parents({name});
        if (removed.empty()) ::usleep(10000);
    }
    EXPECT_FALSE(removed.empty());
    EXPECT_FALSE(sys::exists(dir));
}

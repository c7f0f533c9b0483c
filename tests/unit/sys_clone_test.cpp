// sys::clone, the clone3(2) under every lab's first process: the exit
// signal, a refusal that names the call, and CLONE_INTO_CGROUP (the child is
// born in a cgroup v2 directory; as root, where a cgroup2 mount exists: the
// students' VMs, or unified/ of a hybrid host).
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "nslab/cgroupfs.hpp"
#include "nslab/sys.hpp"

using namespace nslab;

namespace {

std::optional<std::string> cgroup2_mount() {
    for (const char* dir : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        struct statfs fs {};
        if (::statfs(dir, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return dir;
    }
    return std::nullopt;
}

}  // namespace

TEST(SysClone, ChildRunsAndEndsWithTheExitSignal) {
    pid_t child = sys::clone({.exit_signal = SIGCHLD}, [] { return 7; });
    // Without SIGCHLD as its exit signal, waitpid(2) would not see the child
    // (ECHILD) unless given __WALL.
    int status = sys::waitpid(child, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 7);
}

TEST(SysClone, RefusalNamesTheCallAndItsFlags) {
    Fd not_a_cgroup = sys::open("/", O_RDONLY | O_DIRECTORY);
    try {
        sys::clone(
            {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = not_a_cgroup.get()},
            [] { return 0; });
        FAIL() << "clone3 into a directory that is no cgroup succeeded";
    } catch (const std::system_error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("clone3(flags=0x200000000)", 0), 0u) << e.what();
    }
}

TEST(SysClone, IntoCgroupTheChildIsBornThere) {
    const auto mount = cgroup2_mount();
    if (::geteuid() != 0 || !mount) GTEST_SKIP() << "needs root and a cgroup2 mount";
    const std::string name = "nslab-unit-" + std::to_string(::getpid());
    const std::string dir = *mount + "/" + name;
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir;
    int status = -1;
    {
        Fd cgroup = sys::open(dir, O_RDONLY | O_DIRECTORY);
        pid_t child = sys::clone(
            {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = cgroup.get()}, [&] {
                // Its first look at itself already names the new cgroup.
                std::ifstream in("/proc/self/cgroup");
                for (std::string line; std::getline(in, line);)
                    if (line == "0::/" + name) return 0;
                return 1;
            });
        status = sys::waitpid(child, 0);
    }
    cgroupfs::rmdir_with_retries(dir);  // the dead child leaves it a moment later
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's /proc/self/cgroup does not say 0::/" << name;
}

#include "nslab/procfs.hpp"
#include "nslab/observe.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

using namespace nslab;

namespace {
// A real /proc/PID/status of a container's PID 1, seen from the host.
constexpr const char* container_init_status =
    "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4321\nNgid:\t0\nPid:\t4321\n"
    "PPid:\t4300\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNStgid:\t4321\t1\n"
    "NSpid:\t4321\t1\nNSpgid:\t4300\t0\nNSsid:\t4000\t0\n";
}  // namespace

TEST(ProcfsParse, StatusFields) {
    auto status = observe::parse_status(container_init_status);
    EXPECT_EQ(status.name, "sleep");
    EXPECT_EQ(status.state, 'S');
    EXPECT_EQ(status.ppid, 4300);
    EXPECT_EQ(status.nspid, (std::vector<pid_t>{4321, 1}));
    EXPECT_EQ(status.uid, 0u);
}

TEST(ProcfsParse, PidList) {
    EXPECT_EQ(procfs::parse_pid_list("7\t3\t1"), (std::vector<pid_t>{7, 3, 1}));
    EXPECT_TRUE(procfs::parse_pid_list("").empty());
}

TEST(ProcfsRead, OwnProcess) {
    auto status = observe::status(::getpid());
    EXPECT_EQ(status.nspid.back(), ::getpid());
    EXPECT_TRUE(observe::namespace_inode(::getpid(), "net").has_value());
    EXPECT_FALSE(observe::namespace_inode(::getpid(), "no-such-type").has_value());
}

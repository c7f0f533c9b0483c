#include "nslab/mount_plan.hpp"

#include <sys/mount.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

using namespace nslab;
using Step = mount_plan::Step;

namespace {

Config lab(int number) {
    Config cfg;
    cfg.lab = number;
    cfg.rootfs = "/srv/rootfs";
    return cfg;
}

const Step* find(const std::vector<Step>& plan, const std::string& target) {
    auto it =
        std::find_if(plan.begin(), plan.end(), [&](const Step& s) { return s.target == target; });
    return it == plan.end() ? nullptr : &*it;
}

bool below(const std::string& path, const std::string& dir) {
    return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
           path[dir.size()] == '/';
}

}  // namespace

TEST(MountPlan, ProcIsFreshAndHarmless) {
    auto plan = mount_plan::steps(lab(2));
    const Step* proc = find(plan, "/proc");
    ASSERT_NE(proc, nullptr);
    EXPECT_EQ(proc->kind, Step::Kind::filesystem);
    EXPECT_EQ(proc->fstype, "proc");
    EXPECT_EQ(proc->flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_NOEXEC));
    EXPECT_FALSE(proc->make_target) << "/proc is a directory of the rootfs";
}

TEST(MountPlan, DevHoldsOnlyTheUsualDevicesBoundFromTheHost) {
    auto plan = mount_plan::steps(lab(2));
    const Step* dev = find(plan, "/dev");
    ASSERT_NE(dev, nullptr);
    EXPECT_EQ(dev->fstype, "tmpfs");
    std::set<std::string> bound;
    for (const Step& s : plan)
        if (s.kind == Step::Kind::bind) {
            EXPECT_EQ(s.source, s.target) << "a host device keeps its name";
            EXPECT_TRUE(s.make_target) << s.target << ": an empty file in the /dev tmpfs";
            bound.insert(s.target);
        }
    EXPECT_EQ(bound, (std::set<std::string>{"/dev/full", "/dev/null", "/dev/random", "/dev/tty",
                                            "/dev/urandom", "/dev/zero"}));
}

TEST(MountPlan, PtsIsANewInstanceWithPtmxLink) {
    auto plan = mount_plan::steps(lab(2));
    const Step* pts = find(plan, "/dev/pts");
    ASSERT_NE(pts, nullptr);
    EXPECT_EQ(pts->fstype, "devpts");
    EXPECT_NE(pts->data.find("newinstance"), std::string::npos);
    EXPECT_NE(pts->data.find("ptmxmode=0666"), std::string::npos);
    const Step* ptmx = find(plan, "/dev/ptmx");
    ASSERT_NE(ptmx, nullptr);
    EXPECT_EQ(ptmx->kind, Step::Kind::symlink);
    EXPECT_EQ(ptmx->source, "pts/ptmx");
}

TEST(MountPlan, FdLinksPointIntoProc) {
    auto plan = mount_plan::steps(lab(2));
    for (auto [link, text] :
         {std::pair{"/dev/fd", "/proc/self/fd"}, std::pair{"/dev/stdin", "/proc/self/fd/0"},
          std::pair{"/dev/stdout", "/proc/self/fd/1"},
          std::pair{"/dev/stderr", "/proc/self/fd/2"}}) {
        const Step* s = find(plan, link);
        ASSERT_NE(s, nullptr) << link;
        EXPECT_EQ(s->kind, Step::Kind::symlink) << link;
        EXPECT_EQ(s->source, text) << link;
    }
}

TEST(MountPlan, SysIsReadOnlyAndTmpIsTmpfs) {
    auto plan = mount_plan::steps(lab(2));
    const Step* sys = find(plan, "/sys");
    ASSERT_NE(sys, nullptr);
    EXPECT_EQ(sys->fstype, "sysfs");
    EXPECT_TRUE(sys->flags & MS_RDONLY);
    EXPECT_TRUE(sys->flags & MS_NOSUID);
    EXPECT_TRUE(sys->flags & MS_NODEV);
    EXPECT_TRUE(sys->flags & MS_NOEXEC);
    const Step* tmp = find(plan, "/tmp");
    ASSERT_NE(tmp, nullptr);
    EXPECT_EQ(tmp->fstype, "tmpfs");
    EXPECT_NE(tmp->data.find("mode=1777"), std::string::npos) << "a sticky, world-writable /tmp";
    EXPECT_NE(tmp->data.find("size=67108864"), std::string::npos) << "64M unless --tmpfs-size";
    const Step* shm = find(plan, "/dev/shm");
    ASSERT_NE(shm, nullptr);
    EXPECT_EQ(shm->fstype, "tmpfs");
    EXPECT_NE(shm->data.find("size=67108864"), std::string::npos);
    Config sized = lab(2);
    sized.tmpfs_size = 16 << 20;
    EXPECT_NE(find(mount_plan::steps(sized), "/tmp")->data.find("size=16777216"),
              std::string::npos);
}

// Parents come before children, and nothing is ever made in the rootfs:
// a target is made only inside a tmpfs an earlier step mounted.
TEST(MountPlan, NeverWritesToTheRootfs) {
    auto plan = mount_plan::steps(lab(8));
    std::vector<std::string> tmpfs_dirs;
    for (const Step& s : plan) {
        EXPECT_EQ(s.target.front(), '/') << s.target;
        bool in_tmpfs = std::any_of(tmpfs_dirs.begin(), tmpfs_dirs.end(),
                                    [&](const std::string& d) { return below(s.target, d); });
        EXPECT_EQ(s.make_target, in_tmpfs) << s.target;
        if (s.kind != Step::Kind::filesystem) {
            EXPECT_TRUE(in_tmpfs) << s.target;
        }
        if (s.fstype == "tmpfs") tmpfs_dirs.push_back(s.target);
    }
}

TEST(MountPlan, CheckRootfs) {
    auto message = [](const std::string& rootfs) -> std::string {
        Config cfg = lab(2);
        cfg.rootfs = rootfs;
        try {
            mount_plan::check_rootfs(cfg);
            return "";
        } catch (const std::runtime_error& e) {
            return e.what();
        }
    };
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("nslab-unit-rootfs-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    EXPECT_EQ(message((dir / "missing").string()),
              "--rootfs " + (dir / "missing").string() + ": No such file or directory");
    std::ofstream(dir / "file") << "not a directory";
    EXPECT_EQ(message((dir / "file").string()),
              "--rootfs " + (dir / "file").string() + ": not a directory");
    EXPECT_NE(message("/").find("the host's own root"), std::string::npos);
    EXPECT_NE(message(dir.string()).find("no /proc directory to mount proc on"), std::string::npos);
    for (const char* d : {"dev", "sys", "tmp"}) fs::create_directory(dir / d);
    fs::create_directory_symlink("/", dir / "proc");
    EXPECT_NE(message(dir.string()).find("/proc is a symbolic link"), std::string::npos)
        << "a symlinked mount target is refused, not followed";
    fs::remove(dir / "proc");
    fs::create_directory(dir / "proc");
    EXPECT_EQ(message(dir.string()), "") << "a rootfs with its mount points is fine";
    fs::remove_all(dir);
}

TEST(MountPlan, PivotRootBlocker) {
    // A Debian host: "/" is ext4 on top of the hidden initial ramfs (id 1).
    EXPECT_EQ(
        mount_plan::pivot_root_blocker("22 27 0:21 / /proc rw,relatime - proc proc rw\n"
                                       "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"),
        "");
    // A machine still running from its initial ramfs: "/" is the namespace's root mount.
    EXPECT_NE(mount_plan::pivot_root_blocker("1 1 0:2 / / rw - rootfs rootfs rw\n"
                                             "20 1 0:21 / /proc rw - proc proc rw\n")
                  .find("initial ramfs"),
              std::string::npos);
    // A chrooted runtime: no mount is at its "/".
    EXPECT_NE(mount_plan::pivot_root_blocker("22 27 0:21 / /proc rw,relatime - proc proc rw\n")
                  .find("chroot"),
              std::string::npos);
}

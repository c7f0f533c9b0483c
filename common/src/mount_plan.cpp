#include "nslab/mount_plan.hpp"

#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "nslab/sys.hpp"

namespace nslab::mount_plan {

namespace {

Step filesystem(const std::string& type, const std::string& target, unsigned long flags,
                const std::string& data = {}) {
    return {.kind = Step::Kind::filesystem,
            .source = type,
            .target = target,
            .fstype = type,
            .flags = flags,
            .data = data};
}

// The same path on the host and in the container.
Step bind_host(const std::string& path) {
    Step step;
    step.kind = Step::Kind::bind;
    step.source = step.target = path;
    return step;
}

Step symlink(const std::string& text, const std::string& target) {
    Step step;
    step.kind = Step::Kind::symlink;
    step.source = text;
    step.target = target;
    return step;
}

// The file system of an earlier step that step `i`'s target lies in, or
// nullptr when the target lies in the rootfs itself.
const Step* mounted_over(const std::vector<Step>& plan, size_t i) {
    const std::string& path = plan[i].target;
    const Step* found = nullptr;
    for (size_t j = 0; j < i; ++j) {
        const std::string& dir = plan[j].target;
        bool below = path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                     path[dir.size()] == '/';
        if (below && plan[j].kind == Step::Kind::filesystem) found = &plan[j];
    }
    return found;
}

}  // namespace

std::vector<Step> steps(const Config& cfg) {
    (void)cfg;  // later layers decide by cfg.has(Layer::...)
    std::vector<Step> plan;
    // procfs shows the PID namespace of the process that mounts it: the
    // container's PID 1 mounts it, so ps inside sees only the container.
    plan.push_back(filesystem("proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC));
    // A minimal /dev: a tmpfs holding only the devices programs expect,
    // bound from the host's /dev (a user namespace may not mknod, but it
    // may bind), never the host's disks.
    plan.push_back(filesystem("tmpfs", "/dev", MS_NOSUID | MS_STRICTATIME, "mode=755,size=64k"));
    for (const char* device : {"null", "zero", "full", "random", "urandom", "tty"})
        plan.push_back(bind_host(std::string("/dev/") + device));
    // A private devpts instance: the container's terminals are its own.
    plan.push_back(filesystem("devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC,
                              "newinstance,ptmxmode=0666,mode=0620"));
    plan.push_back(symlink("pts/ptmx", "/dev/ptmx"));
    plan.push_back(symlink("/proc/self/fd", "/dev/fd"));
    plan.push_back(symlink("/proc/self/fd/0", "/dev/stdin"));
    plan.push_back(symlink("/proc/self/fd/1", "/dev/stdout"));
    plan.push_back(symlink("/proc/self/fd/2", "/dev/stderr"));
    plan.push_back(
        filesystem("tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=64m"));
    // sysfs read-only: the container may look at the host's devices, not
    // reconfigure them.
    plan.push_back(filesystem("sysfs", "/sys", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
    plan.push_back(filesystem("tmpfs", "/tmp", MS_NOSUID | MS_NODEV, "mode=1777"));

    // A target is made only inside a tmpfs of this plan, never in the rootfs.
    for (size_t i = 0; i < plan.size(); ++i) {
        const Step* over = mounted_over(plan, i);
        plan[i].make_target = over && over->fstype == "tmpfs";
    }
    return plan;
}

void check_rootfs(const Config& cfg) {
    if (!cfg.has(Layer::mount)) return;
    const std::string option = "--rootfs " + cfg.rootfs;
    struct stat st {};
    if (::stat(cfg.rootfs.c_str(), &st) != 0)
        throw std::runtime_error(option + ": " + std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) throw std::runtime_error(option + ": not a directory");
    if (std::filesystem::canonical(cfg.rootfs) == "/")
        throw std::runtime_error(option + ": the host's own root cannot be a container's root");
    const std::vector<Step> plan = steps(cfg);
    for (size_t i = 0; i < plan.size(); ++i) {
        if (mounted_over(plan, i)) continue;
        struct stat target {};
        if (::stat((cfg.rootfs + plan[i].target).c_str(), &target) != 0 || !S_ISDIR(target.st_mode))
            throw std::runtime_error(option + ": no " + plan[i].target + " directory to mount " +
                                     plan[i].fstype + " on (a rootfs is never written to)");
    }
    std::string blocker = pivot_root_blocker(sys::read_file("/proc/self/mountinfo"));
    if (!blocker.empty()) throw std::runtime_error(option + ": " + blocker);
}

std::string pivot_root_blocker(std::string_view mountinfo) {
    // Each line: "ID PARENT MAJ:MIN ROOT MOUNT-POINT ...", paths relative to
    // the reader's root; a mount the reader's root cannot reach is not listed.
    std::istringstream lines{std::string(mountinfo)};
    bool root_listed = false;
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, mount_point;
        if (!(fields >> id >> parent >> device >> root >> mount_point) || mount_point != "/")
            continue;
        root_listed = true;
        if (id == parent)
            return "the host's / is the initial ramfs, which pivot_root(2) cannot move "
                   "(boot with a real root file system, or switch_root first)";
    }
    if (!root_listed)
        return "this process's / is not the root of a mount (a chroot?), so pivot_root(2) "
               "cannot work here";
    return {};
}

}  // namespace nslab::mount_plan

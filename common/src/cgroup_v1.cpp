#include "nslab/cgroup_v1.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>

#include "nslab/cgroupfs.hpp"
#include "nslab/sys.hpp"

namespace nslab::cgroupfs::v1 {

void create(const Host& host, const std::string& path, const Config& cfg) {
    // Every hierarchy nslab found, freezer too (kill_all freezes with it).
    // mkdir -p makes the nslab parent on first use.
    const std::vector<std::string> all(host.controllers.begin(), host.controllers.end());
    make(host, path, all, Existing::refuse, v1_limits(cfg));
}

std::vector<Fd> open_tasks(const Host& host, const std::string& path) {
    std::vector<Fd> files;
    for (const std::string& hierarchy : host.hierarchies())
        files.push_back(sys::open(hierarchy + path + "/tasks", O_WRONLY));
    return files;
}

void join(std::vector<Fd>& tasks) {
    // v1 has no CLONE_INTO_CGROUP. A PID written to cgroup.procs moves a
    // whole thread group, under a lock (cgroup_threadgroup_rwsem) whose
    // writer waits for an RCU grace period: milliseconds. A single thread
    // moving itself ("0" into `tasks`) skips that lock. We are that thread,
    // before we can fork or exec. The parent opened the files before the
    // clone, and the kernel checks the opener's credentials (Linux 5.16), so
    // the user namespace we may be in changes nothing.
    for (const Fd& file : tasks) sys::check(::write(file.get(), "0", 1), "write(0 > cgroup tasks)");
    tasks.clear();
}

void mount_readonly(const Host& host, const std::string& target) {
    constexpr unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    sys::mount("tmpfs", target, "tmpfs", flags, "mode=755,size=64k");
    for (const std::string& hierarchy : host.hierarchies()) {
        // The directory is named after its controllers ("cpu,cpuacct"),
        // which are also the mount options that pick the hierarchy.
        std::string name = std::filesystem::path(hierarchy).filename().string();
        sys::mkdir(target + "/" + name, 0755);
        sys::mount("cgroup", target + "/" + name, "cgroup", flags | MS_RDONLY, name);
        for (const std::string& controller : split(name, ','))
            if (controller != name) sys::symlink(name, target + "/" + controller);
    }
    sys::mount("", target, "", MS_REMOUNT | MS_RDONLY | flags);
}

std::uint64_t oom_kills(const Host& host, const std::string& path) {
    const std::string memory = host.directory("memory", path);
    // A cgroup already gone (lab 12's delete, after the engine's own
    // cleanup) has killed nothing we could still count.
    if (memory.empty() || !sys::exists(memory + "/memory.oom_control")) return 0;
    // "oom_kill N" since Linux 4.13; the same "key value" format as v2's memory.events.
    return parse_flat_keyed(sys::read_file(memory + "/memory.oom_control"))["oom_kill"];
}

}  // namespace nslab::cgroupfs::v1

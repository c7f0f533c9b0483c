// Lab 09: join a running container, like `docker exec` or nsenter(1).
//
// A container is nothing but processes that share a set of namespaces and a
// cgroup, so "entering" one means moving this process into the same ones
// with setns(2), then running the command. Three kernel rules shape this
// file (setns(2), pid_namespaces(7)):
//  - setns(CLONE_NEWPID) changes only pid_for_children: the caller keeps its
//    PID, so the command must be a child, made after the join by fork(2);
//  - the user namespace goes first: joining it grants the capabilities the
//    other namespaces ask for (except those it does not own: join_steps);
//  - joining the mount namespace does not give us the container's root and
//    working directory, so we take them from /proc/PID/{root,cwd}, opened
//    before the join while /proc is still the host's.
#include "nslab/layers/exec.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <map>
#include <stdexcept>
#include <string_view>

#include "nslab/command.hpp"
#include "nslab/errors.hpp"
#include "nslab/exec_plan.hpp"
#include "nslab/layers/process.hpp"
#include "nslab/signals.hpp"
#include "nslab/sys.hpp"

namespace nslab::exec {

namespace {

// The order of the joins (setns(2), "Details for specific namespace types";
// nsenter(1)): groups of the differing types, each group joined by one
// setns(2) on the pidfd, or one type at a time, in its order, on a kernel
// older than 5.8. A namespace checks the capabilities of the joining process
// in the user namespace that owns it:
//  - user first: joining it gives every capability over what it owns (a
//    caller that is not host root has no other; host root loses the host's);
//  - but a namespace it does not own (made before, or outside, the
//    container's user namespace) is joined before it, while the host's
//    capabilities still count for it;
//  - mnt last: joining it changes our root and working directory.
std::vector<std::vector<std::string>> join_steps(const std::vector<std::string>& differing,
                                                 const std::vector<std::string>& owned_outside) {
    static constexpr std::array<std::string_view, 8> order = {"user", "cgroup", "ipc",  "uts",
                                                              "net",  "pid",    "time", "mnt"};
    auto has = [](const std::vector<std::string>& list, std::string_view type) {
        return std::find(list.begin(), list.end(), type) != list.end();
    };
    const bool user = has(differing, "user");
    std::vector<std::string> before_user, rest;
    for (std::string_view type : order) {
        if (!has(differing, type)) continue;
        bool early = user && type != "user" && has(owned_outside, type);
        (early ? before_user : rest).emplace_back(type);
    }
    std::vector<std::vector<std::string>> steps;
    if (!before_user.empty()) steps.push_back(before_user);
    if (!rest.empty()) steps.push_back(rest);
    return steps;
}

// One group of namespaces: one setns(2) on the pidfd joins them all at once
// (Linux >= 5.8); older kernels take the /proc/PID/ns fds one at a time.
void join(const Fd& pidfd, const std::map<std::string, Fd>& ns,
          const std::vector<std::string>& types) {
    int flags = 0;
    for (const auto& type : types) flags |= exec_plan::clone_flag(type);
    try {
        sys::setns(pidfd.get(), flags);
        return;
    } catch (const std::system_error& e) {
        if (e.code().value() != EINVAL) throw;
    }
    for (const auto& type : types) sys::setns(ns.at(type).get(), exec_plan::clone_flag(type));
}

}  // namespace

int join_and_run(const Config& cfg, pid_t pid) {
    // Step 1: hold the process by a pidfd, so a PID reused by another
    // process after it ended cannot send us somewhere else.
    Fd pidfd = sys::pidfd_open(pid);
    const std::string proc = "/proc/" + std::to_string(pid);

    // Step 2: the namespaces it is in that we are not. None: not a container.
    std::vector<std::string> differing;
    std::map<std::string, Fd> ns;
    for (auto type : exec_plan::namespace_types) {
        // Lab 00's reader of /proc/PID/ns: 0 on both sides when the kernel lacks the type.
        const std::string name(type);
        if (process::namespace_inode(pid, name) == process::namespace_inode(::getpid(), name))
            continue;
        differing.emplace_back(type);
        ns.emplace(type, sys::open(proc + "/ns/" + std::string(type), O_RDONLY));
    }
    if (differing.empty())
        throw std::runtime_error("PID " + std::to_string(pid) +
                                 " is not in a container: it shares every namespace with us");

    // Everything found by path under /proc, before the join changes what
    // /proc is; then check the pidfd: is the process we looked at alive?
    Fd root = sys::open(proc + "/root", O_RDONLY | O_DIRECTORY);
    Fd cwd = sys::open(proc + "/cwd", O_RDONLY | O_DIRECTORY);
    const auto cgroup_files = exec_plan::cgroup_procs_files(sys::read_file(proc + "/cgroup"),
                                                            sys::read_file("/proc/self/cgroup"),
                                                            sys::read_file("/proc/self/mountinfo"));
    const auto steps = join_steps(differing, exec_plan::owned_outside(ns));
    sys::pidfd_send_signal(pidfd, 0);

    // Nothing of ours may be read or traced by the container's processes
    // while we are among them (CVE-2019-5736); exec(2) resets this.
    sys::prctl(PR_SET_DUMPABLE, 0);

    // Step 3: its cgroup, while we still see the host's cgroup file system:
    // limits and accounting cover the command too.
    for (const auto& file : cgroup_files) sys::write_file(file, std::to_string(::getpid()));

    // Step 4: its namespaces, in the order of join_steps.
    for (const auto& step : steps) join(pidfd, ns, step);
    if (ns.count("user")) {
        // We are nobody there until we take an id it maps: its root.
        // setgroups(2) is refused (EPERM) where the owner wrote "deny"; we
        // cannot read /proc/self/setgroups to know: that /proc is the
        // container's now, and we are not yet in its PID namespace.
        try {
            sys::setgroups({});
        } catch (const std::system_error& e) {
            if (e.code().value() != EPERM) throw;
        }
        sys::setresgid(0, 0, 0);
        sys::setresuid(0, 0, 0);
    }

    // Step 5: its root and working directory.
    sys::fchdir(root);
    sys::chroot(".");
    sys::fchdir(cwd);

    // Step 6: fork, so the command is inside the PID namespace; we wait,
    // passing signals on, and return its exit status.
    sigset_t original_mask;
    const sigset_t blocked = wait_loop_signals();
    ::sigprocmask(SIG_BLOCK, &blocked, &original_mask);
    pid_t child = sys::fork();
    if (child == 0) exec_or_exit(cfg, original_mask);
    return exit_status_of(wait_forwarding_signals(child));
}

}  // namespace nslab::exec

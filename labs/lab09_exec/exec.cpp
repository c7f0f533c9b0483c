// Lab 09: join a running container, like `docker exec` or nsenter(1).
//
// Read labs/lab09_exec/README.md first. Each TODO below is a numbered step of
// the handout; replace the `throw` with your code.
#include "nslab/layers/exec.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <map>
#include <stdexcept>

#include "nslab/container.hpp"
#include "nslab/errors.hpp"
#include "nslab/exec_plan.hpp"
#include "nslab/procfs.hpp"
#include "nslab/signals.hpp"
#include "nslab/sys.hpp"

namespace nslab::exec {

namespace {

// One group of namespaces: one setns(2) on the pidfd joins them all at once
// (Linux >= 5.8); older kernels take the /proc/PID/ns fds one at a time.
[[maybe_unused]] void join(const Fd& pidfd, const std::map<std::string, Fd>& ns,
                           const std::vector<std::string>& types) {
    // TODO step 4b: OR together exec_plan::clone_flag(type) of every type
    // and make ONE setns(pidfd, flags) call: the kernel joins them all or
    // none. If it fails with EINVAL (a kernel older than 5.8 takes no pidfd),
    // setns each type's fd from `ns` (sys::setns) one at a time, in order.
    (void)pidfd;
    (void)ns;
    (void)types;
    throw NotImplemented("lab09_exec", 4, "setns(2)");
}

}  // namespace

int join_and_run(const Config& cfg, pid_t pid) {
    // TODO step 1: hold the process with sys::pidfd_open(pid): unlike a PID,
    // a pidfd cannot come to mean another process that reused the number.
    //
    // TODO step 2: for each type of exec_plan::join_order, compare
    // procfs::namespace_inode(pid, type) with ours (::getpid()); for each
    // that differs, remember the type (in `differing`) and open
    // /proc/PID/ns/TYPE (sys::open, O_RDONLY) into `ns`, a
    // std::map<std::string, Fd> from type to fd. If none differs, throw
    // std::runtime_error("PID N is not in a container: ...").
    // While /proc is still the host's, also open /proc/PID/root and
    // /proc/PID/cwd (O_RDONLY | O_DIRECTORY), compute the cgroup files with
    // exec_plan::cgroup_procs_files(its /proc/PID/cgroup, our
    // /proc/self/cgroup, our /proc/self/mountinfo) and the order with
    // exec_plan::join_steps(differing, exec_plan::owned_outside(ns)). Then
    // sys::pidfd_send_signal(pidfd, 0): is it the same, live process?
    // And sys::prctl(PR_SET_DUMPABLE, 0), so the container cannot read us.
    //
    // TODO step 3: join its cgroup: write our PID (sys::write_file) to each
    // of those cgroup.procs files.
    //
    // TODO step 4a: for each step of the order, join(pidfd, ns, step). If
    // you joined a user namespace, become its root: sys::setgroups({}) (an
    // EPERM std::system_error is fine: the owner wrote "deny"), then
    // sys::setresgid(0, 0, 0) and sys::setresuid(0, 0, 0).
    //
    // TODO step 5: take its root and working directory: sys::fchdir(root),
    // sys::chroot("."), sys::fchdir(cwd).
    //
    // TODO step 6: block wait_loop_signals() (sigprocmask, keep the old
    // mask), sys::fork(); the child calls exec_or_exit(cfg, old mask); the
    // parent returns exit_status_of(wait_forwarding_signals(child)).
    (void)cfg;
    (void)pid;
    throw NotImplemented("lab09_exec", 1, "pidfd_open(2), setns(2), nsenter(1)");
}

}  // namespace nslab::exec

// Lab 09: join a running container, like `docker exec` or man 1 nsenter.
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

#include "nslab/command.hpp"
#include "nslab/errors.hpp"
#include "nslab/exec_plan.hpp"
#include "nslab/layers/process.hpp"
#include "nslab/signals.hpp"
#include "nslab/sys.hpp"

namespace nslab::exec {

namespace {

// The order of the joins: groups of the differing types, each group joined
// at once (join, below), and one type at a time, in its order, on a kernel
// older than 5.8.
[[maybe_unused]] std::vector<std::vector<std::string>> join_steps(
    const std::vector<std::string>& differing, const std::vector<std::string>& owned_outside) {
    // TODO step 4a: the types of `differing` in groups, in an order the
    // kernel accepts one group at a time, and one type at a time inside a
    // group: each namespace checks our capabilities in the user namespace
    // that owns it, and `owned_outside` are those the container's user
    // namespace does not own (man 2 setns, "Details for specific namespace
    // types"; man 7 user_namespaces, "Capabilities"; man 1 nsenter, --user).
    // Why the user namespace first, the mount namespace last, and a
    // namespace the user namespace does not own before it?
    (void)differing;
    (void)owned_outside;
    throw NotImplemented("lab09_exec", 4, "man 2 setns, man 1 nsenter");
}

// One group of namespaces: one man 2 setns on the pidfd joins them all at once
// (Linux >= 5.8); older kernels take the /proc/PID/ns fds one at a time.
[[maybe_unused]] void join(const Fd& pidfd, const std::map<std::string, Fd>& ns,
                           const std::vector<std::string>& types) {
    // TODO step 4b: every namespace of `types` is joined at once, all or
    // none, through the pidfd; a kernel older than 5.8 refuses a pidfd
    // (EINVAL), and then the fds of `ns` are joined one at a time, in order
    // (man 2 setns). Why does one call on a pidfd not need the order?
    (void)pidfd;
    (void)ns;
    (void)types;
    throw NotImplemented("lab09_exec", 4, "man 2 setns");
}

}  // namespace

int join_and_run(const Config& cfg, pid_t pid) {
    // TODO step 1: a handle on the target that cannot come to mean another
    // process if its PID is reused (man 2 pidfd_open). What can a PID mean a
    // moment later?
    //
    // TODO step 2: every namespace type (exec_plan::namespace_types) in which
    // the target differs from us has its /proc/PID/ns file open; its root and
    // working directory are open; the cgroup files (exec_plan.hpp) and the
    // join steps (step 4a) are computed; a target that differs in nothing is refused
    // with one line; the target is checked to be alive; we are non-dumpable
    // (man 7 namespaces, man 2 setns, man 2 prctl). Why all of this before any join?
    //
    // TODO step 3: we are in the container's cgroup (man 7 cgroups, "Creating
    // cgroups and moving processes"). Why before the cgroup namespace?
    //
    // TODO step 4c: we are in each of its namespaces, group by group in the
    // order of the join steps; after a user namespace, uid 0 and gid 0 of it
    // (man 2 setns, man 7 user_namespaces). Why the user namespace first?
    //
    // TODO step 5: our root and working directory are the target's, taken
    // from the fds opened in step 2 (man 2 chroot, man 2 fchdir). Why not the
    // mount namespace's root?
    //
    // TODO step 6: the command runs in a child, born in the container's PID
    // namespace, with the signal mask the runtime started with; we pass
    // signals on and return its exit status (man 7 pid_namespaces, man 2 fork).
    // Why does setns to a PID namespace need the fork?
    (void)cfg;
    (void)pid;
    throw NotImplemented("lab09_exec", 1, "man 2 pidfd_open, man 2 setns, man 1 nsenter");
}

}  // namespace nslab::exec

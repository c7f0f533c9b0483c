// Lab 06: cgroups (how much a container may use) and the cgroup namespace
// (which part of the cgroup tree it sees).
//
// Read labs/lab06_cgroup/README.md first. Each TODO below is a numbered step
// of the handout; replace the `throw` with your code. You write the cgroup v2
// path (your VM is v2); the hand-over of each phase to cgroupfs::v1 on a
// cgroup v1 host (common/src/cgroup_v1.cpp) is given.
#include "nslab/layers/cgroup.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "nslab/cgroup_v1.hpp"
#include "nslab/cgroupfs.hpp"
#include "nslab/errors.hpp"
#include "nslab/sys.hpp"

namespace nslab::cgroup {

State before_clone(const Config& cfg) {
    const cgroupfs::Host& host = cgroupfs::host();
    // TODO step 1: a limit the machine cannot give is refused with one line
    // before anything exists (man 7 cgroups; cgroup_plan.hpp has the check).
    // Why before?
    //
    // Only root may make cgroups here; a rootless run without limits still
    // gets its cgroup namespace (in_child), in the cgroup it started in.
    if (::geteuid() != 0 && cgroupfs::controllers_for(cfg).empty()) return {};
    // TODO step 1: the container's own, new cgroup exists below nslab/, with
    // exactly the limits asked for, and its directory is open for step 2
    // (man 7 cgroups, "Cgroups v2 subtree control"; cgroup-v2.rst, "No Internal
    // Process Constraint"). Why must the ancestors be written first? On a v1
    // host (host.mode is not unified), cgroupfs::v1 makes it and opens the
    // child's way in (state.v1_tasks) instead.
    (void)host;
    throw NotImplemented("lab06_cgroup", 1, "man 7 cgroups, cgroup-v2.rst");
}

void clone_into(const State& state, sys::CloneArgs& args) {
    if (!state.directory) return;
    // TODO step 2: the child is born in its cgroup, so nothing it forks runs
    // outside (man 2 clone, "CLONE_INTO_CGROUP"). Why not move it in afterwards?
    // (On v1 the child moves itself in: cgroupfs::v1::join, given.)
    (void)args;
    throw NotImplemented("lab06_cgroup", 2, "man 2 clone3: CLONE_INTO_CGROUP");
}

void in_child() {
    // TODO step 3: inside, the container's cgroup is "/" and its cgroup file
    // system at /sys/fs/cgroup is read-only (man 7 cgroup_namespaces, man 2 mount).
    // Why only now, once inside its cgroup? On a v1 host,
    // cgroupfs::v1::mount_readonly mounts the hierarchies instead.
    throw NotImplemented("lab06_cgroup", 3, "man 7 cgroup_namespaces");
}

int after_exit(const Config& cfg, State& state, int status) {
    if (state.path.empty()) return status;
    const cgroupfs::Host& host = cgroupfs::host();
    const std::string dir = cgroupfs::v2_directory(state.path);
    // TODO step 4: an OOM kill is reported (one line on stderr, exit status
    // 128 + the OOM killer's signal) and the cgroup is removed, once only
    // (cgroup-v2.rst, "memory.events", "cgroup.kill"; man 2 rmdir). Why can the
    // removal fail for a moment? On v1, cgroupfs::v1::oom_kills counts and
    // cgroupfs::remove removes.
    (void)host;
    (void)dir;
    (void)status;
    (void)cfg;
    throw NotImplemented("lab06_cgroup", 4, "man 7 cgroups, cgroup-v2.rst: memory.events");
}

}  // namespace nslab::cgroup

// Lab 06: cgroups (how much a container may use) and the cgroup namespace
// (which part of the cgroup tree it sees).
//
// Read labs/lab06_cgroup/README.md first. Each TODO below is a numbered step
// of the handout; replace the `throw` with your code. You write the cgroup v2
// path (your VM is v2); on a cgroup v1 host each phase hands over to
// cgroupfs::v1 (common/src/cgroupfs.cpp), as the TODOs say.
#include "nslab/layers/cgroup.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "nslab/cgroupfs.hpp"
#include "nslab/errors.hpp"
#include "nslab/sys.hpp"

namespace nslab::cgroup {

State before_clone(const Config& cfg) {
    if (!cfg.has(Layer::cgroup)) return {};
    const cgroupfs::Host& host = cgroupfs::host();
    // TODO step 1a: refuse what cannot work before anything exists:
    // cgroupfs::validate(cfg, host, ::sysconf(_SC_NPROCESSORS_ONLN)).
    // Only root may make cgroups here; a rootless run without limits still
    // gets its cgroup namespace (in_child), in the cgroup it started in.
    if (::geteuid() != 0 && cgroupfs::controllers_for(cfg).empty()) return {};
    // TODO step 1b: make the container's cgroup and write its limits.
    //  - State state; state.path = cgroupfs::container_path(cfg.id, ::getpid()):
    //    "/nslab/ID-PID".
    //  - Not v2 (host.mode != cgroupfs::Mode::unified)? cgroupfs::v1::create(host,
    //    state.path, cfg) does it all; then state.v1_tasks =
    //    cgroupfs::v1::open_tasks(host, state.path) (the child's way in,
    //    cgroup::join); return state.
    //  - v2: for every dir of cgroupfs::ancestors("/sys/fs/cgroup", state.path)
    //    (the root, then /sys/fs/cgroup/nslab): sys::mkdir it (EEXIST is fine)
    //    and, if any limit was asked, write
    //    cgroupfs::subtree_control_line(cgroupfs::controllers_for(cfg))
    //    ("+memory +pids +cpu") to its cgroup.subtree_control.
    //  - sys::mkdir_new "/sys/fs/cgroup" + state.path itself (it must be new:
    //    unlike sys::mkdir, an existing directory is an error); guard it
    //    with a ScopeGuard that rmdirs it, so a refused limit leaves nothing.
    //  - write each cgroupfs::v2_limits(cfg) entry (file, value) into it,
    //    skipping an `optional` file that does not exist.
    //  - open the way in for step 2: state.directory =
    //    sys::open(that directory, O_RDONLY | O_DIRECTORY); dismiss the guard.
    (void)host;
    throw NotImplemented("lab06_cgroup", 1, "cgroups(7), cgroup-v2.rst");
}

void clone_into(const Config& cfg, const State& state, sys::CloneArgs& args) {
    if (!cfg.has(Layer::cgroup) || !state.directory) return;
    // TODO step 2: let the child be born in its cgroup (v2; on v1 the child
    // moves itself in, cgroup::join, done for you): add CLONE_INTO_CGROUP to
    // args.flags and set args.cgroup to state.directory.get().
    (void)args;
    throw NotImplemented("lab06_cgroup", 2, "clone3(2): CLONE_INTO_CGROUP");
}

void in_child(const Config& cfg) {
    if (!cfg.has(Layer::cgroup)) return;
    // TODO step 3: a cgroup namespace rooted at the container's cgroup, and
    // its cgroup file system, read-only, at /sys/fs/cgroup.
    //  - sys::unshare(CLONE_NEWCGROUP).
    //  - Not v2? cgroupfs::v1::mount_readonly(cgroupfs::host(), "/sys/fs/cgroup").
    //  - v2: sys::mount("cgroup2", "/sys/fs/cgroup", "cgroup2",
    //    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC).
    throw NotImplemented("lab06_cgroup", 3, "cgroup_namespaces(7)");
}

int after_exit(const Config& cfg, State& state, int status) {
    if (!cfg.has(Layer::cgroup) || state.path.empty()) return status;
    const cgroupfs::Host& host = cgroupfs::host();
    const std::string dir = std::string(cgroupfs::mount_point) + state.path;
    // TODO step 4: report an OOM kill, then remove the cgroup.
    //  - Not v2? oom_kills = cgroupfs::v1::oom_kills(host, state.path), then
    //    cgroupfs::v1::remove(host, state.path).
    //  - v2: if dir + "/memory.events" exists, oom_kills is its "oom_kill"
    //    value (cgroupfs::parse_flat_keyed); then cgroupfs::kill_all(dir) and
    //    cgroupfs::rmdir_with_retries(dir).
    //  - state.path.clear() (this must run once only).
    //  - oom_kills > 0: print "lab06_cgroup: killed: out of memory" on stderr
    //    (cfg.program), with ", limit 64 MiB" if --memory was given
    //    (cgroupfs::human_bytes(*cfg.memory)), and return 128 + SIGKILL;
    //    otherwise return status.
    (void)host;
    (void)dir;
    (void)status;
    throw NotImplemented("lab06_cgroup", 4, "cgroups(7), cgroup-v2.rst: memory.events");
}

}  // namespace nslab::cgroup

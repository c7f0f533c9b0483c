// Lab 06: cgroups (how much a container may use) and the cgroup namespace
// (which part of the cgroup tree it sees).
//
// A namespace changes what a process sees; a cgroup limits what it uses
// (cgroups(7)). Both hang off the task: task_struct->cgroups (a css_set)
// and task_struct->nsproxy->cgroup_ns. The container gets its own cgroup
// under /sys/fs/cgroup/nslab, its limits, and a cgroup namespace rooted at
// that cgroup, so inside /proc/self/cgroup says "0::/".
//
// This file is the cgroup v2 path (the students' VMs); on a cgroup v1 host
// each phase hands over to cgroupfs::v1, in common/src/cgroup_v1.cpp.
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
#include "nslab/sys.hpp"

namespace nslab::cgroup {

State before_clone(const Config& cfg) {
    const cgroupfs::Host& host = cgroupfs::host();
    // Step 1a. Refuse what cannot work (more CPUs than the machine has, a
    // controller the host lacks) before anything exists to undo.
    cgroupfs::validate(cfg, host, ::sysconf(_SC_NPROCESSORS_ONLN));
    // Only root may make cgroups here; a rootless run without limits still
    // gets its cgroup namespace (in_child), in the cgroup it started in.
    if (::geteuid() != 0 && cgroupfs::controllers_for(cfg).empty()) return {};
    State state;
    state.path = cgroupfs::container_path(cfg.id, ::getpid());
    if (host.mode != cgroupfs::Mode::unified) {
        cgroupfs::v1::create(host, state.path, cfg);
        state.v1_tasks = cgroupfs::v1::open_tasks(host, state.path);  // for v1::join
        return state;
    }

    // Step 1b. A v2 controller works in a cgroup only if every ancestor lists
    // it in cgroup.subtree_control. The no-internal-process rule: a cgroup
    // (but the root) that enables controllers for its children may hold no
    // process itself, so nslab/ stays empty and containers are its leaves.
    const std::string controllers = cgroupfs::subtree_control_line(cgroupfs::controllers_for(cfg));
    for (const std::string& dir :
         cgroupfs::ancestors(std::string(cgroupfs::mount_point), state.path)) {
        sys::mkdir(dir, 0755);
        if (!controllers.empty()) sys::write_file(dir + "/cgroup.subtree_control", controllers);
    }
    const std::string dir = cgroupfs::v2_directory(state.path);
    // Ours alone: one left by another run is an error, not a cgroup to share.
    sys::mkdir_new(dir, 0755);
    ScopeGuard remove([&] { sys::rmdir(dir); });  // a refused limit must not leave it behind
    for (const cgroupfs::LimitWrite& limit : cgroupfs::v2_limits(cfg)) {
        const std::string file = dir + "/" + limit.file;
        if (limit.optional && !sys::exists(file)) continue;
        sys::write_file(file, limit.value);
    }
    state.directory = sys::open(dir, O_RDONLY | O_DIRECTORY);  // the way in: clone_into
    remove.dismiss();
    return state;
}

void clone_into(const State& state, sys::CloneArgs& args) {
    if (!state.directory) return;
    // Step 2. The child is born in its cgroup (clone3(2), Linux 5.7): it
    // never runs, forks or execs outside, so nothing escapes the limits. And
    // nobody moves it: writing its PID to cgroup.procs would take a lock
    // whose writer waits for an RCU grace period, milliseconds of start-up.
    // (v1 has no CLONE_INTO_CGROUP: there the child moves itself, v1::join.)
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = state.directory.get();
}

void in_child() {
    // Step 3. A new cgroup namespace takes the cgroup we are in *now* as its
    // root (cgroup_namespaces(7)): that is why we had to be inside first.
    sys::unshare(CLONE_NEWCGROUP);
    // A cgroup file system mounted inside the namespace shows our cgroup as
    // its root: the container reads its own limits, read-only.
    if (cgroupfs::host().mode != cgroupfs::Mode::unified)
        return cgroupfs::v1::mount_readonly(cgroupfs::host(), std::string(cgroupfs::mount_point));
    sys::mount("cgroup2", std::string(cgroupfs::mount_point), "cgroup2",
               MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

int after_exit(const Config& cfg, State& state, int status) {
    if (state.path.empty()) return status;
    const cgroupfs::Host& host = cgroupfs::host();
    const std::string dir = cgroupfs::v2_directory(state.path);
    std::uint64_t oom_kills = 0;
    if (host.mode != cgroupfs::Mode::unified) {
        oom_kills = cgroupfs::v1::oom_kills(host, state.path);
        cgroupfs::remove(host, state.path);
    } else {
        // Step 4. memory.events counts what the memory controller did;
        // oom_kill is how many processes it killed at the limit.
        if (sys::exists(dir + "/memory.events"))
            oom_kills =
                cgroupfs::parse_flat_keyed(sys::read_file(dir + "/memory.events"))["oom_kill"];
        // A cgroup with a process in it cannot be removed (EBUSY): kill
        // what is left (cgroup.kill, Linux 5.14; else freeze and kill).
        cgroupfs::kill_all(dir);
        cgroupfs::rmdir_with_retries(dir);
    }
    state.path.clear();
    if (oom_kills == 0) return status;
    std::string limit = cfg.memory ? ", limit " + cgroupfs::human_bytes(*cfg.memory) : "";
    std::fprintf(stderr, "%s: killed: out of memory%s\n", cfg.program.c_str(), limit.c_str());
    return 128 + SIGKILL;  // what the OOM killer sends, as docker reports it
}

}  // namespace nslab::cgroup

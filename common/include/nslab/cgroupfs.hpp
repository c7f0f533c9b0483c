// The host's cgroup driver: which shape of cgroup file system the host has
// (v1, v2 or hybrid), and making, killing and removing cgroups in it, for
// the runtime (lab 06, whose v2 half the student writes in
// labs/lab06_cgroup/cgroup.cpp) and for the grading sandbox
// (tool/src/sandbox.cpp) alike; and `nslab cleanup`'s part. What it decides
// with is in cgroup_plan.hpp (pure, unit-tested), the cgroup v1 half of the
// lab in cgroup_v1.hpp.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "nslab/cgroup_plan.hpp"
#include "nslab/fd.hpp"

namespace nslab::cgroupfs {

// Detected once, before the first clone; the child inherits the answer
// (after pivot_root it could no longer look at the host's /sys/fs/cgroup).
const Host& host();

// Held, shared, while a cgroup is made together with the parents it needs
// (nslab/, nslab-grading/): remove_empty_parents() removes them only when
// no one holds it, so it cannot rmdir a parent between its mkdir and the
// mkdir of the cgroup below it. An flock(2) on /sys/fs/cgroup itself:
// nothing is left behind, and a runtime killed meanwhile lets go of it.
class CreationLock {
  public:
    CreationLock();  // no /sys/fs/cgroup: no lock, and nothing to make either

  private:
    Fd root_;
};

enum class Existing {
    refuse,  // a cgroup of that name is an error: another run's, not ours to share
    reuse    // a leftover of the same name (an interrupted run) is taken over
};
// Makes the cgroup `path` ("/nslab-grading/x", relative to each hierarchy's
// root) where `controllers` can apply to it, and writes its `limits`, each
// to the directory of its controller (an optional one whose file the kernel
// lacks is skipped): v2, in the one tree, each ancestor switching the
// controllers on in its cgroup.subtree_control; v1, in each hierarchy that
// holds one of them. Makes the parents it lacks; on failure removes what it
// made. Returns its directories. Hold a CreationLock meanwhile.
std::vector<std::string> make(const Host& host, const std::string& path,
                              const std::vector<std::string>& controllers, Existing existing,
                              const std::vector<LimitWrite>& limits);

// Lab 11: the container's cgroup `path` (made already) lets it open only
// the devices of default_devices(): v1, its devices.deny and devices.allow;
// v2, a BPF device program attached to it. Before the child exists, so
// nothing runs in the cgroup without the rules. No cgroup (rootless), or
// not in the host's user namespace: nothing to do (--verbose says so).
void limit_devices(const Host& host, const std::string& path, const Config& cfg);

std::vector<pid_t> procs(const std::string& dir);  // cgroup.procs
// Kills every process left in a cgroup: v2 cgroup.kill (Linux 5.14), else
// freeze (so nothing forks while we kill), SIGKILL each, thaw.
void kill_all(const std::string& dir, const std::string& freezer_dir = {});
// rmdir(2) of a cgroup whose processes were killed: the kernel lets go of
// dead tasks asynchronously, so EBUSY is retried for a bounded time.
void rmdir_with_retries(const std::string& dir);
// The cgroup `path` in every hierarchy: kill_all (v1 with the freezer), and
// then remove() rmdirs it. A hierarchy that lacks it is skipped.
void kill(const Host& host, const std::string& path);
void remove(const Host& host, const std::string& path);
// Lab 12's kill --all: `signal` to each process of the cgroup `path`, as
// the hierarchies list them (one PID once); how many were sent it.
std::size_t signal_all(const std::string& path, int signal);
// Lab 12's create exits while its container lives on: the cgroup `path`,
// named after that runtime (container_path), is handed over to process
// `pid`, so cleanup_stale() keeps it while that process lives. A cgroup v2
// directory cannot be renamed (rename(2): EPERM), so the hand-over is a
// record, "pid=N start=T", under hand_over_dir; release_hand_over() (lab
// 12's delete) or cleanup_stale() removes it with the cgroup.
inline constexpr const char* hand_over_dir = "/run/nslab/cgroup-owners";
void hand_over(const std::string& path, pid_t pid);
void release_hand_over(const std::string& path);

// Removes the cgroups NAME-PID below each of `parents` (at the top of every
// hierarchy) whose owner PID is gone (killed by SIGKILL, say) or a zombie,
// killing what is left in them first. Returns what it removed; `errors` gets
// one line per cgroup it could not remove. `nslab cleanup` calls it for the
// containers' parent and for the grading sandbox's.
std::vector<std::string> cleanup_stale(const std::vector<std::string>& parents,
                                       std::vector<std::string>* errors);
// The containers' parent only (the graders' own cleanup).
std::vector<std::string> cleanup_stale(std::vector<std::string>* errors = nullptr);
// `nslab cleanup`: the hand-over records (and half-written ".new" ones)
// whose cgroup no hierarchy has and whose process has ended. Their paths.
std::vector<std::string> cleanup_hand_overs();
// rmdir(2)s /sys/fs/cgroup/NAME and /sys/fs/cgroup/*/NAME for each name
// ("nslab", "nslab-grading") that is empty: a busy parent simply stays, and
// so do all while a CreationLock is held. Returns the directories removed.
std::vector<std::string> remove_empty_parents(const std::vector<std::string>& names);

}  // namespace nslab::cgroupfs

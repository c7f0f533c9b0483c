// The orchestrator: runs the layers' phases in the order the kernel needs.
// It sits above the layers; what they share with it (exec_or_exit, the
// exit statuses) is below both, in nslab/command.hpp.
#pragma once

#include <sys/types.h>

#include <string>

#include "nslab/config.hpp"

namespace nslab {

// A container left in the created state (lab 12): its first process, set up
// and waiting for `start` on cfg.exec_fifo, and its cgroup, to remove at `delete`.
struct Created {
    pid_t pid = 0;
    std::string cgroup;  // cgroup::State::path; empty: none made
};

// Runs cfg.command in a container made of the layers of cfg.lab and returns
// the exit status a runtime returns: the command's own, 128+n for signal n,
// 125 when the runtime failed, 126 not executable, 127 not found. With
// `created` (lab 12's create, cfg.exec_fifo set) it returns 0 once the
// container is set up, leaving it to wait for `start`, and fills *created.
int run_container(const Config& cfg, Created* created = nullptr);

// Lab 09: the process cfg names (--pid or --pid-file), joined with
// exec::join_and_run; an ESRCH or EPERM on the way is one clear line.
int join_container(const Config& cfg);

// Lab 12's exec, in the joined child just before its exec (command.hpp's
// JoinedProcess): what create's child did for the container's first
// process, from the same steps: env and cwd, rlimits, umask, oom score,
// the terminal, then lab 11's drops (capabilities, no_new_privs, seccomp,
// the user). The namespaces, cgroup, root and mounts are the container's
// already: lab 09 joined them.
void set_up_joined_process(const Config& cfg);

}  // namespace nslab

// The orchestrator: runs the layers' phases in the order the kernel needs.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <string>

#include "nslab/config.hpp"

namespace nslab {

// Runs cfg.command in a container made of the layers of cfg.lab and returns
// the exit status a runtime returns: the command's own, 128+n for signal n,
// 125 when the runtime failed, 126 not executable, 127 not found.
int run_container(const Config& cfg);

// Lab 09: the process cfg names (--pid or --pid-file), joined with
// exec::join_and_run; an ESRCH or EPERM on the way is one clear line.
int join_container(const Config& cfg);

// Runs cfg.command in place of this forked child, with `original_mask` as
// the signal mask. Nobody to report to: a failure is one line on stderr and
// exit status 126/127 (125 if the runtime failed).
[[noreturn]] void exec_or_exit(const Config& cfg, const sigset_t& original_mask) noexcept;

// Passes the forwarded signals (blocked by the caller before `child` was
// made) on to `child` and returns its wait status once it has exited.
int wait_forwarding_signals(pid_t child);

// A wait(2) status as an exit status: the code, or 128 + the signal.
int exit_status_of(int wait_status);

// 126 or 127 for an errno from execve(2), else 125.
int exit_status_for_exec_error(int error);

}  // namespace nslab

// The orchestrator: runs the layers' phases in the order the kernel needs.
// It sits above the layers; what they share with it (exec_or_exit, the
// exit statuses) is below both, in nslab/command.hpp.
#pragma once

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

}  // namespace nslab

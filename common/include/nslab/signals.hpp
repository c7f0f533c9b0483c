// The signals a runtime and a container init pass on to the command.
#pragma once

#include <csignal>

namespace nslab {

// What `docker kill` and a terminal send: the runtime forwards these from
// the host side; the --init forwards them to the command inside.
inline constexpr int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// The forwarded signals plus SIGCHLD: the set a wait loop blocks and takes
// with sigwaitinfo(2), so no signal is lost between fork and the loop.
inline sigset_t wait_loop_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : forwarded_signals) sigaddset(&set, sig);
    sigaddset(&set, SIGCHLD);
    return set;
}

}  // namespace nslab

// Lab 01: the PID namespace.
//
// clone(2) with CLONE_NEWPID puts the *child* in a new PID namespace, where
// it is PID 1; the caller stays where it is (pid_namespaces(7)). PID 1 has
// two identities: a normal PID (NSpid's first number) in our namespace and 1
// in its own, and the duties of an init: orphans are re-parented to it and
// it must reap them, and the kernel delivers to it only the signals it
// handles or takes. When it exits, every process in the namespace is killed.
#include "nslab/layers/pid.hpp"

#include <sched.h>
#include <sys/wait.h>

#include <csignal>

#include "nslab/command.hpp"
#include "nslab/signals.hpp"
#include "nslab/sys.hpp"

namespace nslab::pid {

pid_t clone_child(const Config& cfg, sys::CloneArgs args, const std::function<int()>& child_main) {
    (void)cfg;  // every lab that builds a container has this layer
    args.flags |= CLONE_NEWPID;
    // The termination signal: SIGCHLD, so the parent can wait for the child
    // like any other (clone(2) takes it in the low byte of the flags).
    args.exit_signal = SIGCHLD;
    return sys::clone(args, child_main);
}

int init_loop(const Config& cfg, pid_t command) {
    (void)cfg;
    // The runtime left the forwarded signals and SIGCHLD blocked: we take
    // them one at a time with sigwaitinfo(2), so none is lost and PID 1's
    // "no handler, no signal" rule does not drop them.
    const sigset_t signals = wait_loop_signals();
    for (;;) {
        siginfo_t info{};
        if (::sigwaitinfo(&signals, &info) == -1) {
            if (errno == EINTR) continue;
            sys::fail("sigwaitinfo()");
        }
        if (info.si_signo != SIGCHLD) {
            ::kill(command, info.si_signo);  // ESRCH: the command is exiting
            continue;
        }
        // Several children may have exited for one SIGCHLD: reap them all,
        // the command and every orphan the kernel gave us.
        for (;;) {
            int status = 0;
            pid_t done = ::waitpid(-1, &status, WNOHANG);
            if (done <= 0) break;
            if (done == command) return exit_status_of(status);
        }
    }
}

}  // namespace nslab::pid

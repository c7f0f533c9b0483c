// Lab 01: the PID namespace.
//
// Read labs/lab01_pid/README.md first. Each TODO below is a numbered step of
// the handout; replace the `throw` with your code.
#include "nslab/layers/pid.hpp"

#include <sched.h>
#include <sys/wait.h>

#include <csignal>

#include "nslab/command.hpp"
#include "nslab/errors.hpp"
#include "nslab/signals.hpp"
#include "nslab/sys.hpp"

namespace nslab::pid {

pid_t clone_child(const Config& cfg, sys::CloneArgs args, const std::function<int()>& child_main) {
    // TODO step 1: the child is the first process of a new PID namespace,
    // and its parent is told when it ends (man 2 clone,
    // "CLONE_NEWPID", "The child termination signal"). Which of its two PIDs
    // does the runtime get back?
    (void)cfg;
    (void)args;
    (void)child_main;
    throw NotImplemented("lab01_pid", 1, "man 2 clone, man 7 pid_namespaces");
}

int init_loop(const Config& cfg, pid_t command) {
    // TODO step 2: be the namespace's init: pass every forwarded signal on
    // to the command, reap every child that ends, and return the command's
    // exit status when it ends (man 7 pid_namespaces, "The namespace "init"
    // process"; man 2 sigwaitinfo). Why may one SIGCHLD stand for several children?
    (void)cfg;
    (void)command;
    throw NotImplemented("lab01_pid", 2, "man 7 pid_namespaces, man 2 sigwaitinfo, man 2 waitpid");
}

}  // namespace nslab::pid

// One way to run a command: spawn an argv with its standard streams set up
// (pipes, /dev/null, a descriptor of the caller's), in a process group of its
// own and as another user when asked; wait, with a deadline if need be; read
// its exit status. It sits below both the orchestrator and the layers (lab 01
// and lab 09 use its exit statuses and exec_or_exit), and the tool, the
// graders and the fault tests use it instead of fork/exec copies of their own.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "nslab/config.hpp"
#include "nslab/fd.hpp"

namespace nslab {

// Runs cfg.command in place of this forked child, with `original_mask` as
// the signal mask. Nobody to report to: a failure is one line on stderr and
// exit status 126/127 (125 if the runtime failed).
[[noreturn]] void exec_or_exit(const Config& cfg, const sigset_t& original_mask) noexcept;

// Passes the forwarded signals (blocked by the caller before `child` was
// made) on to `child` and returns its wait status once it has exited.
int wait_forwarding_signals(pid_t child);

// What lab 12's `exec` adds to lab 09's join (exec::join_and_run, which
// calls exec_or_exit in its forked child and wait_forwarding_signals in the
// parent), so that the student's join serves both labs unchanged:
// `in_child` runs in that child just before the exec (the config's
// confinement); `after_fork` runs first in the parent and, when it returns
// a wait status, that replaces the wait (`exec --detach`: the PID is
// written, and the runtime leaves its process to the engine's subreaper).
// Only a runtime that joins sets it, before it joins.
struct JoinedProcess {
    std::function<void()> in_child{};
    std::function<std::optional<int>(pid_t)> after_fork{};
};
void set_joined_process(JoinedProcess hooks);

// A wait(2) status as an exit status: the code, or 128 + the signal.
int exit_status_of(int wait_status);

// The exit status for an errno from execve(2): 127 (not found) for ENOENT
// or ENOTDIR, else 126 (not executable).
int exit_status_for_exec_error(int error);

namespace command {

// What one of the child's standard streams becomes.
struct Stream {
    enum class Kind { inherit, null, pipe, fd };
    Kind kind = Kind::inherit;
    int fd = -1;  // Kind::fd: this descriptor (the caller keeps it open)

    static Stream inherit() { return {}; }
    static Stream null() { return {Kind::null}; }
    static Stream pipe() { return {Kind::pipe}; }
    static Stream to(int fd) { return {Kind::fd, fd}; }
};

// Every member has an initializer, so that a designated initializer may
// leave any of them out (-Wmissing-field-initializers).
struct Spec {
    std::vector<std::string> argv{};  // as execvp(3): a name without '/' is looked up in PATH
    Stream in{}, out{}, err{};
    bool own_process_group = false;  // a signal for our process group is not the child's
    std::optional<std::pair<uid_t, gid_t>> as_user{};  // no supplementary groups, then gid, uid
    std::string directory{};                           // chdir(2) here first; empty: stay
    std::vector<std::pair<std::string, std::string>> environment{};  // set (or replaced)
    // Runs in the child, after the streams and the process group and before
    // the ids change; a std::system_error it throws means the command does
    // not run (start() throws NotStarted with its text).
    std::function<void()> before_exec{};
    int setup_failed = 125;  // the child's exit status when its set-up failed
};

// The command never ran: its set-up or its execve(2) failed. what() is one
// line ("cannot run 'x': No such file or directory"); status() what a shell
// would have exited with (127 not found, 126 not executable, else the
// Spec's setup_failed). The child has been reaped.
class NotStarted : public std::system_error {
  public:
    NotStarted(int error, std::string what, int status)
        : std::system_error(error, std::generic_category()),
          what_(std::move(what)),
          status_(status) {}
    const char* what() const noexcept override { return what_.c_str(); }  // the line as it is
    int status() const { return status_; }

  private:
    std::string what_;
    int status_;
};

// A started command and the parent's ends of the pipes that were asked for.
struct Child {
    pid_t pid = -1;
    Fd in, out, err;
};

// fork(2), set up, execve(2). Returns once the exec has succeeded; throws
// NotStarted when it did not, std::system_error when fork(2) failed.
// Every descriptor it makes is close-on-exec: the child gets only its three.
Child start(const Spec& spec);

// waitpid(2) for `pid`, EINTR retried: its wait status.
int wait(pid_t pid);

struct Ended {
    int status = 0;  // the wait status
    bool timed_out = false;
};
// Waits for `pid` until `deadline`; past it the process is sent SIGKILL.
// Either way it has been reaped.
Ended wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline);

struct Output {
    int status = 0;  // the wait status
    std::string out, err;
};
// Runs the command to its end: a piped stdin is closed at once, piped
// stdout and stderr are read to their end (both at once: a full pipe would
// block the command), then it is waited for.
Output run(const Spec& spec);

// The standard output of argv, run to its end (stdin and stderr are ours);
// {"/bin/sh", "-c", script} for a shell's. Throws as start() does.
std::string output_of(const std::vector<std::string>& argv);

// execve(2) of argv in place of this process; returns only on failure: errno.
int exec(const std::vector<std::string>& argv);

// Runs argv in place of this process as a container's command: `mask` as
// the signal mask, every fd above 2 close-on-exec first, so nothing of the
// runtime survives into the container (CVE-2024-21626 was a leaked fd).
// Returns only when the exec failed: errno and one line naming the command.
struct ExecFailure {
    int error = 0;
    std::string what;
};
ExecFailure exec_in_place(const std::vector<std::string>& argv, const sigset_t& mask);

}  // namespace command
}  // namespace nslab

#include "nslab/command.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "nslab/errors.hpp"
#include "nslab/signals.hpp"
#include "nslab/sys.hpp"

extern char** environ;

namespace nslab {

int exit_status_of(int wait_status) {
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return exit_status::runtime_failed;
}

int exit_status_for_exec_error(int error) {
    if (error == ENOENT || error == ENOTDIR) return exit_status::not_found;
    return exit_status::not_executable;
}

namespace command {

namespace {

// execvpe(3): a name without '/' is looked up in PATH; a file that is
// neither a binary nor a #! script runs under /bin/sh, as execvp(3) does.
int exec_with(char* const* argv, char* const* envp) {
    ::execvpe(argv[0], argv, envp);
    return errno;
}

// The child's and the parent's end of one standard stream.
struct Ends {
    Fd child, parent;
};

Ends prepare(const Stream& stream, bool child_reads) {
    switch (stream.kind) {
        case Stream::Kind::inherit:
            return {};
        case Stream::Kind::null:
            return {sys::open("/dev/null", (child_reads ? O_RDONLY : O_WRONLY) | O_CLOEXEC), {}};
        case Stream::Kind::pipe: {
            auto [read_end, write_end] = sys::pipe2(O_CLOEXEC);
            if (child_reads) return {std::move(read_end), std::move(write_end)};
            return {std::move(write_end), std::move(read_end)};
        }
        case Stream::Kind::fd:
            break;
    }
    // A copy, so the child's dup2(2) works even when the caller's fd is 0-2.
    return {Fd(sys::check(::fcntl(stream.fd, F_DUPFD_CLOEXEC, 3), "fcntl(F_DUPFD_CLOEXEC)")), {}};
}

// What the child sends back over the report pipe when it cannot exec.
enum class Stage { streams, before_exec, directory, ids, exec };
struct Report {
    Stage stage = Stage::exec;
    int error = 0;
    char text[240] = {};  // before_exec: what it threw
};

// In the forked child: report why it cannot exec, and exit.
[[noreturn]] void give_up(const Spec& spec, const Fd& report, Report& failed, Stage stage,
                          int error) noexcept {
    failed.stage = stage;
    failed.error = error;
    (void)!::write(report.get(), &failed, sizeof failed);  // the parent reads it, or is gone
    ::_exit(stage == Stage::exec ? exit_status_for_exec_error(error) : spec.setup_failed);
}

// In the forked child: set up, exec; on a failure report it and exit.
// Raw system calls here: the sys wrappers throw, and a forked child must
// not unwind into its parent's code; it reports errno over the pipe instead.
[[noreturn]] void become(const Spec& spec, char* const* argv, char* const* envp, Ends (&ends)[3],
                         const Fd& report) noexcept {
    Report failed;
    for (int n = 0; n < 3; ++n) {
        if (!ends[n].child) continue;
        // dup2(2) onto itself keeps close-on-exec: clear it instead.
        int rc = ends[n].child.get() == n ? ::fcntl(n, F_SETFD, 0) : ::dup2(ends[n].child.get(), n);
        if (rc < 0) give_up(spec, report, failed, Stage::streams, errno);
    }
    if (spec.own_process_group) ::setpgid(0, 0);
    if (spec.before_exec) {
        try {
            spec.before_exec();
        } catch (const std::exception& e) {
            const auto* system_error = dynamic_cast<const std::system_error*>(&e);
            std::snprintf(failed.text, sizeof failed.text, "%s", e.what());
            give_up(spec, report, failed, Stage::before_exec,
                    system_error ? system_error->code().value() : 0);
        }
    }
    if (!spec.directory.empty() && ::chdir(spec.directory.c_str()) != 0)
        give_up(spec, report, failed, Stage::directory, errno);
    if (spec.as_user) {
        const auto [uid, gid] = *spec.as_user;
        if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
            ::setresuid(uid, uid, uid) != 0)
            give_up(spec, report, failed, Stage::ids, errno);
    }
    give_up(spec, report, failed, Stage::exec, exec_with(argv, envp));
}

std::string describe(const Spec& spec, const Report& report) {
    std::string what = "cannot run '" + spec.argv.front() + "'";
    switch (report.stage) {
        case Stage::streams:
            return what + ": dup2: " + std::strerror(report.error);
        case Stage::before_exec:
            return what + ": " + report.text;
        case Stage::directory:
            return what + " in " + spec.directory + ": " + std::strerror(report.error);
        case Stage::ids:
            return what + " as uid " + std::to_string(spec.as_user->first) + ", gid " +
                   std::to_string(spec.as_user->second) + ": " + std::strerror(report.error);
        case Stage::exec:
            break;
    }
    return what + ": " + std::strerror(report.error);
}

// The environment the child gets: ours, with the Spec's names replaced.
std::vector<std::string> environment_of(const Spec& spec) {
    std::vector<std::string> entries;
    for (char** e = environ; e && *e; ++e) {
        std::string entry = *e;
        bool replaced = false;
        for (const auto& [name, value] : spec.environment)
            replaced |= entry.compare(0, name.size() + 1, name + "=") == 0;
        if (!replaced) entries.push_back(std::move(entry));
    }
    for (const auto& [name, value] : spec.environment) entries.push_back(name + "=" + value);
    return entries;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> result;
    for (auto& s : strings) result.push_back(s.data());
    result.push_back(nullptr);
    return result;
}

}  // namespace

Child start(const Spec& spec) {
    if (spec.argv.empty()) throw std::invalid_argument("command::start: an empty argv");
    // Everything the child needs is made before fork(2), so the child of a
    // threaded program does not have to allocate.
    std::vector<std::string> argv_strings = spec.argv;
    std::vector<std::string> env_strings = environment_of(spec);
    std::vector<char*> argv = pointers(argv_strings), envp = pointers(env_strings);
    Ends ends[3] = {prepare(spec.in, true), prepare(spec.out, false), prepare(spec.err, false)};
    // Closed by a successful exec: an empty read says it worked.
    auto [report_read, report_write] = sys::pipe2(O_CLOEXEC);
    Child child;
    child.pid = sys::fork();
    if (child.pid == 0) become(spec, argv.data(), envp.data(), ends, report_write);
    report_write.reset();
    for (auto& end : ends) end.child.reset();
    Report report;
    ssize_t n;
    while ((n = ::read(report_read.get(), &report, sizeof report)) == -1 && errno == EINTR) {}
    if (n > 0) {
        wait(child.pid);
        throw NotStarted(report.error, describe(spec, report),
                         report.stage == Stage::exec ? exit_status_for_exec_error(report.error)
                                                     : spec.setup_failed);
    }
    child.in = std::move(ends[0].parent);
    child.out = std::move(ends[1].parent);
    child.err = std::move(ends[2].parent);
    return child;
}

int wait(pid_t pid) {
    return sys::waitpid(pid, 0);
}

Ended wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline) {
    Ended ended;
    // A pidfd becomes readable when the process ends: the deadline is
    // poll(2)'s timeout. Without one (a kernel before 5.3), look every 50 ms.
    Fd pidfd;
    try {
        pidfd = sys::pidfd_open(pid);
    } catch (const std::system_error&) {}
    for (;;) {
        // Raw waitpid(2): sys::waitpid returns the status, not whether
        // WNOHANG found the process ended.
        pid_t done = ::waitpid(pid, &ended.status, WNOHANG);
        if (done == pid) return ended;
        if (done == -1 && errno != EINTR) sys::fail("waitpid(" + std::to_string(pid) + ")");
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{pidfd ? pidfd.get() : -1, POLLIN, 0};  // fd -1: poll(2) only sleeps
        ::poll(&p, 1, pidfd ? static_cast<int>(std::min<long>(left.count(), 1000)) : 50);
    }
    ended.timed_out = true;
    ::kill(pid, SIGKILL);  // ESRCH: it ended meanwhile; the wait below reaps it either way
    ended.status = wait(pid);
    return ended;
}

Output run(const Spec& spec) {
    Child child = start(spec);
    child.in.reset();
    Output output;
    pollfd fds[2] = {{child.out ? child.out.get() : -1, POLLIN, 0},
                     {child.err ? child.err.get() : -1, POLLIN, 0}};
    int open_pipes = (fds[0].fd >= 0) + (fds[1].fd >= 0);
    // Raw poll(2) and read(2): this loop takes EINTR and each pipe's end as
    // they come, where sys's wrappers would throw.
    while (open_pipes > 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buffer[4096];
            ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                fds[i].fd = -1;
                --open_pipes;
            } else {
                (i == 0 ? output.out : output.err).append(buffer, static_cast<size_t>(n));
            }
        }
    }
    output.status = wait(child.pid);
    return output;
}

std::string output_of(const std::vector<std::string>& argv) {
    return run({.argv = argv, .out = Stream::pipe()}).out;
}

int exec(const std::vector<std::string>& argv) {
    std::vector<std::string> strings = argv;
    std::vector<char*> args = pointers(strings);
    return exec_with(args.data(), environ);
}

ExecFailure exec_in_place(const std::vector<std::string>& argv, const sigset_t& mask) {
    ::sigprocmask(SIG_SETMASK, &mask, nullptr);  // raw: it cannot fail with SIG_SETMASK
    sys::close_range_from(3, CLOSE_RANGE_CLOEXEC);
    int error = exec(argv);
    return {error, "cannot run '" + argv.front() + "': " + std::strerror(error)};
}

}  // namespace command

namespace {
JoinedProcess joined;  // set_joined_process(): lab 12's exec only
}  // namespace

void set_joined_process(JoinedProcess hooks) {
    joined = std::move(hooks);
}

void exec_or_exit(const Config& cfg, const sigset_t& original_mask) noexcept {
    try {
        if (joined.in_child) joined.in_child();
        command::ExecFailure failed = command::exec_in_place(cfg.command, original_mask);
        std::fprintf(stderr, "%s: %s\n", cfg.program.c_str(), failed.what.c_str());
        ::_exit(exit_status_for_exec_error(failed.error));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", cfg.program.c_str(), e.what());
    }
    ::_exit(exit_status::runtime_failed);
}

// Raw kill(2) and waitpid(2): ESRCH and "not yet" are expected here.
int wait_forwarding_signals(pid_t child) {
    if (joined.after_fork)
        if (std::optional<int> instead = joined.after_fork(child)) return *instead;
    const sigset_t signals = wait_loop_signals();
    for (;;) {
        siginfo_t info{};
        if (::sigwaitinfo(&signals, &info) == -1) {
            if (errno == EINTR) continue;
            sys::fail("sigwaitinfo()");
        }
        if (info.si_signo != SIGCHLD) {
            ::kill(child, info.si_signo);  // ESRCH: it is exiting already
            continue;
        }
        int status = 0;
        pid_t done = ::waitpid(child, &status, WNOHANG);
        if (done == child) return status;
    }
}

}  // namespace nslab

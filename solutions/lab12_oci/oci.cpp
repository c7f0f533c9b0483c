// Lab 12: the OCI runtime's own part (runtime.md of the runtime spec).
//
// `create` builds the container with the layers of labs 01-11 and stops
// before the exec: the container's process is set up, confined and waiting,
// and the runtime exits. `start` is a second run of the runtime that lets it
// exec. Between them, and after, no process of ours is left, so:
//  - the wait is on something in the state directory, a FIFO: opening one
//    for writing blocks until someone opens it for reading (fifo(7)); `start`
//    is that someone;
//  - whoever called `create` (podman's conmon, a subreaper: prctl(2)
//    PR_SET_CHILD_SUBREAPER) inherits the process, waits for it and gets its
//    exit status; the runtime never does;
//  - every later command finds the process from its PID and start time (the
//    state file) through /proc and a pidfd, never trusting a bare PID, which
//    the kernel reuses once the process is gone.
#include "nslab/layers/oci.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>

#include "nslab/layers/cgroup.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace nslab::oci {

namespace {

// The process's /proc/PID/stat, if that PID is still the process `create`
// made (the same start time) and has not ended (a zombie has: Z).
bool alive(const Process& process) {
    std::string text;
    try {
        text = sys::read_file("/proc/" + std::to_string(process.pid) + "/stat");
    } catch (const std::system_error&) {
        return false;  // gone, and reaped
    }
    const auto stat = procfs::parse_stat(text);
    return stat && stat->start_time == process.start_time && stat->state != 'Z' &&
           stat->state != 'X';
}

// A pidfd on the process, checked after it is open: from then on the
// kernel cannot give it another process, whatever happens to the PID.
std::optional<Fd> hold(const Process& process) {
    std::optional<Fd> pidfd;
    try {
        pidfd.emplace(sys::pidfd_open(process.pid));
    } catch (const std::system_error&) {
        return std::nullopt;
    }
    if (!alive(process)) return std::nullopt;
    return pidfd;
}

}  // namespace

void wait_for_start(int fifo) {
    // Step 1: open our FIFO for writing through /proc/self/fd (the path in
    // the state directory is outside our root now); the open blocks until
    // `start` opens it for reading. One byte says we got there.
    const std::string path = "/proc/self/fd/" + std::to_string(fifo);
    Fd writer = sys::open(path, O_WRONLY | O_CLOEXEC);
    ::close(fifo);
    const char byte = '0';
    sys::check(::write(writer.get(), &byte, 1), "write(exec FIFO)");
}

void release(const std::string& fifo_path, const Process& process) {
    // Step 2: hold the process first: once the FIFO is open for reading the
    // container runs, and a short command may end, and be reaped, before
    // our next call. Then open the FIFO without blocking (the container may
    // have died: no writer would ever come) and wait for its byte while
    // its process lives; the byte stays in the FIFO after it has gone.
    std::optional<Fd> pidfd = hold(process);
    if (!pidfd) throw std::runtime_error("its process has exited before it was started");
    Fd reader = sys::open(fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    pollfd waits[2] = {{reader.get(), POLLIN, 0}, {pidfd->get(), POLLIN, 0}};
    for (;;) {
        int ready = ::poll(waits, 2, -1);
        if (ready < 0 && errno == EINTR) continue;
        sys::check(ready, "poll(exec FIFO)");
        char byte = 0;
        if ((waits[0].revents & POLLIN) && ::read(reader.get(), &byte, 1) == 1) break;
        if (waits[1].revents & POLLIN)
            throw std::runtime_error("its process has exited before it was started");
    }
    // Once started, never again: the FIFO is gone (status_of: running).
    ::unlink(fifo_path.c_str());
}

Status status_of(const Process& process, const std::string& fifo_path) {
    // Step 3: stopped unless that PID is still our process; created while
    // the FIFO waits for `start`.
    if (!alive(process)) return Status::stopped;
    return sys::exists(fifo_path) ? Status::created : Status::running;
}

void send_signal(const Process& process, int signal) {
    // Step 4: the signal goes to the container's process by its pidfd.
    std::optional<Fd> pidfd = hold(process);
    if (!pidfd) throw std::runtime_error("it is not running");
    sys::pidfd_send_signal(*pidfd, signal);
}

void remove(const Config& cfg, const Process& process, const std::string& cgroup, bool force) {
    // Step 5: a live container is killed only when asked, and waited for by
    // its pidfd (we are not its parent: waitpid(2) cannot); then its cgroup
    // goes with lab 06's code, as a run of the labs removes it.
    if (std::optional<Fd> pidfd = hold(process)) {
        if (!force) throw std::runtime_error("it is running: stop it first, or use --force");
        sys::pidfd_send_signal(*pidfd, SIGKILL);
        pollfd exited = {pidfd->get(), POLLIN, 0};
        while (::poll(&exited, 1, -1) < 0 && errno == EINTR) {}
    }
    cgroup::State state;
    state.path = cgroup;
    cgroup::after_exit(cfg, state, 0);
}

}  // namespace nslab::oci

// Lab 12: the OCI runtime's own part (the runtime spec's runtime.md).
//
// Read labs/lab12_oci/README.md first. Each TODO below is a numbered step
// of the handout; replace the `throw` with your code.
#include "nslab/layers/oci.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>

#include "nslab/errors.hpp"
#include "nslab/layers/cgroup.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace nslab::oci {

namespace {

bool alive(const Process& process) {
    // TODO step 3: true only while that PID is still the process `create`
    // made (the same start time: man 5 proc, /proc/PID/stat) and it has not
    // ended. What does a PID say once its process is gone and reaped?
    (void)process;
    throw NotImplemented("lab12_oci", 3, "man 5 proc");
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
    // TODO step 1: the container's process, set up and confined, waits here
    // until `start` opens the FIFO for reading, then leaves no fd of it open
    // (man 7 fifo; the FIFO's path is outside our root now: man 5 proc,
    // /proc/PID/fd). What must `start` learn from us, and how?
    (void)fifo;
    throw NotImplemented("lab12_oci", 1, "man 7 fifo");
}

void release(const std::string& fifo_path, const Process& process) {
    // TODO step 2: let the waiting container go, and return only once it
    // has gone; never wait forever for one whose process died, and never
    // take a command that ran and ended at once for one that died first
    // (man 7 fifo, man 2 poll, man 2 pidfd_open). After this, status_of
    // says running.
    (void)fifo_path;
    (void)process;
    (void)hold;
    throw NotImplemented("lab12_oci", 2, "man 7 fifo");
}

Status status_of(const Process& process, const std::string& fifo_path) {
    // TODO step 3: stopped, created or running, from /proc and the state
    // directory alone: no process of the runtime is left to ask (man 5 proc).
    (void)process;
    (void)fifo_path;
    throw NotImplemented("lab12_oci", 3, "man 5 proc");
}

void send_signal(const Process& process, int signal) {
    // TODO step 4: the signal reaches the container's process and no other,
    // even if its PID was reused (man 2 pidfd_send_signal); a stopped
    // container is an error.
    (void)process;
    (void)signal;
    throw NotImplemented("lab12_oci", 4, "man 2 pidfd_send_signal");
}

void remove(const Config& cfg, const Process& process, const std::string& cgroup, bool force) {
    // TODO step 5: a running container stays, unless `force`: then it is
    // killed and waited for, though it is not our child (man 2 pidfd_open,
    // "poll"); then its cgroup goes, as lab 06 removes one.
    (void)cfg;
    (void)process;
    (void)cgroup;
    (void)force;
    throw NotImplemented("lab12_oci", 5, "man 2 pidfd_open");
}

}  // namespace nslab::oci

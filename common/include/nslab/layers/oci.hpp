// Lab 12: the OCI runtime's own part. The layers of labs 01-11 build the
// container from the bundle's config.json (oci_config.hpp); what is new is
// that the runtime is a command run once per step (create, start, state,
// kill, delete), so between two of them no process of ours is left: the
// container's first process is parented by whoever called `create` (its
// subreaper: conmon), and each later command finds it again from the state
// directory (oci_state.hpp) and /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "nslab/config.hpp"

namespace nslab::oci {

// A container's first process as `create` saw it: a PID, and its start
// time (/proc/PID/stat, field 22), which a later process reusing the PID lacks.
struct Process {
    pid_t pid = 0;
    std::uint64_t start_time = 0;
};

enum class Status { created, running, stopped };

// In the container's first process, set up and confined, before its exec:
// the spec's created state. Returns once `start` has opened the FIFO that
// `fifo` (an O_PATH fd) holds, and leaves no fd of it open.
void wait_for_start(int fifo);

// `start`: lets the container waiting on the FIFO at `fifo_path` exec;
// throws when its process is gone instead (nothing would ever open it).
void release(const std::string& fifo_path, const Process& process);

// Whether `process` is still the container's process, and whether it has
// passed `start` (`fifo_path` is gone once it has).
Status status_of(const Process& process, const std::string& fifo_path);

// `kill`: sends `signal` to the container's process, never to another
// that took its PID since; throws when it is stopped.
void send_signal(const Process& process, int signal);

// `delete`: a stopped container's cgroup removed (with `force`, a running
// one is killed first, and waited for, though it is not our child);
// throws, removing nothing, when it runs and `force` is false.
void remove(const Config& cfg, const Process& process, const std::string& cgroup, bool force);

}  // namespace nslab::oci

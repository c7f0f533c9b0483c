// Readers of /proc, for the runtime, the tool and the graders. Parsing is
// split from reading so it can be unit-tested on fixture text. What lab 00
// teaches (a process's status and namespace links) is not here: the
// observers' copy is nslab/observe.hpp, which the labs do not link.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nslab::procfs {

// Every namespace link in /proc/PID/ns, as the kernel names them.
inline constexpr std::array<std::string_view, 10> namespace_types = {
    "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children",
    "user",   "uts"};

// "Key:\tvalue" lines of /proc/PID/status.
std::map<std::string, std::string> parse_status(std::string_view text);
// "1234\t1" -> {1234, 1}: the PID in each namespace, outermost first.
std::vector<pid_t> parse_pid_list(std::string_view text);

// What /proc/PID/stat says of a process's life (proc(5)): its state letter
// (field 3: R, S, Z ...) and its start time (field 22, clock ticks after
// boot). The command name (field 2) may hold spaces and ')': fields are
// counted from the last ')'. Text that is not such a line: nullopt.
struct Stat {
    char state = 0;
    std::uint64_t start_time = 0;
};
std::optional<Stat> parse_stat(std::string_view text);

// The children of a process (from /proc/PID/task/*/children).
std::vector<pid_t> children(pid_t pid);

// Every PID in /proc.
std::vector<pid_t> all_pids();

}  // namespace nslab::procfs

// Readers of /proc, for the orchestrator, the tool and the graders. Parsing
// is split from reading so it can be unit-tested on fixture text.
#pragma once

#include <sys/types.h>

#include <array>
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

struct Status {
    std::string name;
    char state = '?';
    pid_t ppid = 0;
    std::vector<pid_t> nspid;
    uid_t uid = 0;  // real uid, in the reader's user namespace
};
Status parse_status_fields(std::string_view text);
Status status(pid_t pid);  // throws when the process is gone

// The inode that identifies a process's namespace of a type (stat(2) on the
// link), or nothing when the kernel has no such namespace type.
std::optional<ino_t> namespace_inode(pid_t pid, std::string_view type);

// The children of a process (from /proc/PID/task/*/children).
std::vector<pid_t> children(pid_t pid);

// Every PID in /proc.
std::vector<pid_t> all_pids();

}  // namespace nslab::procfs

// What the observers (nslab-tool, the graders, the fault tests) read of a
// process in /proc. Not part of libnslab: the labs cannot link it, because
// reading /proc/PID/status and /proc/PID/ns/* is what lab 00's student writes
// (labs/lab00_process). The observers use this copy so that a grade never
// rests on the code it grades.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nslab::observe {

struct Status {
    std::string name;
    char state = '?';
    pid_t ppid = 0;
    std::vector<pid_t> nspid;
    uid_t uid = 0;  // real uid, in the reader's user namespace
};
Status parse_status(std::string_view text);  // the text of /proc/PID/status
Status status(pid_t pid);                    // throws when the process is gone

// The inode that identifies a process's namespace of a type (stat(2) on the
// link), or nothing when the kernel has no such namespace type.
std::optional<ino_t> namespace_inode(pid_t pid, std::string_view type);

}  // namespace nslab::observe

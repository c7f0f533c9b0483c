// Lab 09's plumbing: the namespace types, their flags, who owns them, the
// cgroups to join. The pure parts are unit-tested without root
// (tests/unit/exec_plan_test.cpp); the layer (labs/lab09_exec) decides the
// order of the joins and makes the system calls.
#pragma once

#include <system_error>

#include <sys/types.h>

#include <array>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/config.hpp"
#include "nslab/fd.hpp"

namespace nslab::exec_plan {

// The namespace types a process can join, as /proc/PID/ns lists them
// ("pid" and "time" are the process's own namespaces, not the
// *_for_children ones). In which order to join them is lab 09's to decide.
inline constexpr std::array<std::string_view, 8> namespace_types = {
    "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};

// CLONE_NEWUSER for "user", and so on.
int clone_flag(std::string_view type);

// The PID to join: --pid, or the number in --pid-file.
pid_t target_pid(const Config& cfg);

// The types of `ns` (type -> /proc/PID/ns/TYPE fd, user included) whose
// owning user namespace (ioctl NS_GET_USERNS) is not ns["user"]'s: a
// namespace the runtime made before, or outside, the container's user
// namespace. Empty when ns has no "user": then every owner is already ours.
std::vector<std::string> owned_outside(const std::map<std::string, Fd>& ns);

// The cgroup.procs files to write our PID to so we join the cgroups that
// /proc/PID/cgroup (`target`) lists: one per hierarchy (v2 "0::/path", v1
// "N:controllers:/path") where the target is not where we are (`own`),
// found under its mount point in our /proc/self/mountinfo.
std::vector<std::string> cgroup_procs_files(std::string_view target, std::string_view own,
                                            std::string_view mountinfo);

// Turns the two failures a user can fix (no such process; not allowed)
// into one clear line naming the PID; anything else is rethrown as it is.
[[noreturn]] void rethrow_explained(const std::system_error& error, pid_t pid);

}  // namespace nslab::exec_plan

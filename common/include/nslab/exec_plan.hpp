// Lab 09's plan: which namespaces and cgroups to join, in which order. The
// pure parts are unit-tested without root (tests/unit/exec_plan_test.cpp);
// the layer (labs/lab09_exec) makes the system calls.
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

// The namespace types a process can join, in the order setns(2) needs them
// one at a time: user first, because joining it grants the capabilities the
// others ask for; mnt last, because it changes our root and working
// directory. "pid" and "time" are the process's own namespaces, not the
// *_for_children ones.
inline constexpr std::array<std::string_view, 8> join_order = {"user", "cgroup", "ipc",  "uts",
                                                               "net",  "pid",    "time", "mnt"};

// CLONE_NEWUSER for "user", and so on.
int clone_flag(std::string_view type);

// The PID to join: --pid, or the number in --pid-file.
pid_t target_pid(const Config& cfg);

// Groups of namespace types, each joined by one setns(2) call on a pidfd
// (Linux >= 5.8), or one type at a time, in order, on older kernels.
// `differing` are the types where the target is not where we are;
// `owned_outside` are those whose owner is not the target's user namespace
// (a time namespace the runtime made before the container's user namespace):
// we must join those first, while our capabilities still count for them.
std::vector<std::vector<std::string>> join_steps(const std::vector<std::string>& differing,
                                                 const std::vector<std::string>& owned_outside);

// The types of `ns` (type -> /proc/PID/ns/TYPE fd, user included) whose
// owning user namespace (ioctl NS_GET_USERNS) is not ns["user"]'s. Empty
// when ns has no "user": then every owner is already ours.
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

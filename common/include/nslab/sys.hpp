// The checked system-call facade: the one place where raw syscalls appear.
//
// Every wrapper is named like the call it makes and throws std::system_error
// carrying errno and the call with its arguments, e.g. `mount(proc, /proc)`,
// so a failure deep in set-up still says exactly what the kernel refused.
#pragma once

#include <sched.h>
#include <sys/types.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "nslab/fd.hpp"

namespace nslab::sys {

// Throws std::system_error(errno, what). Read errno first: call it right
// after the failing call, before anything else can change errno.
[[noreturn]] void fail(std::string_view what, int err = errno);

// Returns rc, or throws with `what` when rc == -1.
template <typename T>
T check(T rc, std::string_view what) {
    if (rc == static_cast<T>(-1)) fail(what);
    return rc;
}

// --- files ---------------------------------------------------------------
Fd open(const std::string& path, int flags, mode_t mode = 0);
// openat2(2) below `dir` with RESOLVE_* flags `resolve` (Linux >= 5.6).
Fd openat2(const Fd& dir, const std::string& path, int flags, std::uint64_t resolve);
std::string read_file(const std::string& path);
// A one-value file (/proc, /sys, a pid file): its text without the trailing
// newline and spaces the kernel or a writer put after the value.
std::string read_value(const std::string& path);
void write_file(const std::string& path, std::string_view data);  // one write(2)
std::string readlink(const std::string& path);
void mkdir(const std::string& path, mode_t mode);      // EEXIST is fine
void mkdir_new(const std::string& path, mode_t mode);  // EEXIST is an error too
void mkdir_p(const std::string& path, mode_t mode);    // every missing level
void rmdir(const std::string& path);
void symlink(const std::string& target, const std::string& link);
void chdir(const std::string& path);
ino_t inode_of(const std::string& path);  // stat(2) st_ino
bool exists(const std::string& path);
struct statfs statfs(const std::string& path);              // f_type says which file system
std::pair<Fd, Fd> pipe2(int flags);                         // {read end, write end}
void close_range_from(unsigned first, unsigned flags = 0);  // every fd >= first (flags: CLOEXEC)

// --- processes ------------------------------------------------------------
// clone3(2)'s flag to start the child in a given cgroup (Linux 5.7); older
// C libraries do not define it.
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

// What clone3(2) takes (struct clone_args), the fields nslab uses.
struct CloneArgs {
    std::uint64_t flags = 0;  // CLONE_NEW*, and CLONE_INTO_CGROUP with `cgroup`
    int exit_signal = 0;      // sent to the parent when the child ends (SIGCHLD)
    int cgroup = -1;          // CLONE_INTO_CGROUP: a v2 cgroup's directory fd
};
// clone3(2); child_main runs in the child and its return value is the
// child's exit status.
pid_t clone(const CloneArgs& args, const std::function<int()>& child_main);
pid_t fork();
int waitpid(pid_t pid, int options);  // returns the wait status
void kill(pid_t pid, int sig);
void prctl(int option, unsigned long arg);
void unshare(int flags);
void setns(int fd, int nstype);
// A pidfd: a handle on a process that a reused PID cannot fool; signal 0
// asks whether it is still alive.
Fd pidfd_open(pid_t pid);
void pidfd_send_signal(const Fd& pidfd, int sig);

// --- mounts ---------------------------------------------------------------
void mount(const std::string& source, const std::string& target, const std::string& type,
           unsigned long flags, const std::string& data = {});
void umount2(const std::string& target, int flags);
void pivot_root(const std::string& new_root, const std::string& put_old);
void chroot(const std::string& path);
void fchdir(const Fd& dir);

// --- identity -------------------------------------------------------------
void sethostname(std::string_view name);
void setdomainname(std::string_view name);
std::string gethostname();
void setresuid(uid_t real, uid_t effective, uid_t saved);
void setresgid(gid_t real, gid_t effective, gid_t saved);
void setgroups(const std::vector<gid_t>& groups);

}  // namespace nslab::sys

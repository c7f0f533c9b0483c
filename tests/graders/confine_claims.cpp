// Lab 11's claims: a container confined as Docker confines one. Its five
// capability sets hold Docker's 14 and no more (--cap-add, --cap-drop
// change them); no_new_privs and a seccomp filter are on; what the issue's
// escape review found open in lab 08 (open_by_handle_at, a new user
// namespace, bpf, perf_event_open, keyctl, userfaultfd, a module load,
// mount, /proc/kcore, kallsyms, core_pattern, a node of the host's disk,
// the container's own cgroup limits) is refused; and a normal
// program still runs. Each claim runs as root and with --userns. That
// every refused thing works against lab 08 (so these claims can fail) is
// tests/faults/escapes_test.cpp's Escape.ConfinementRefusesWhatLab08Allows.
#include <sys/capability.h>
#include <sys/prctl.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "harness.hpp"
#include "nslab/capabilities.hpp"

using namespace grader;

namespace {

struct Way {
    std::string name;
    std::vector<std::string> options;
};

// Root, and root of a user namespace (user nslab's subordinate ids).
std::vector<Way> ways() {
    return {{"as root", {"--net", "none"}}, {"with --userns", {"--net", "none", "--userns"}}};
}

// /proc/self/status's hexadecimal mask of a set of capabilities.
std::string mask_of(const std::vector<nslab::caps::Cap>& set) {
    std::uint64_t mask = 0;
    for (nslab::caps::Cap cap : set) mask |= std::uint64_t{1} << cap;
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(mask));
    return text;
}

// The probe's view of what the container may do (`probe confine`).
std::map<std::string, std::string> confine_probe(const Way& way,
                                                 const std::vector<std::string>& more = {}) {
    Result r = run(lab(), with(way.options, more), probe({"confine"}));
    EXPECT_EQ(r.status, 0) << "the probe should run in the confined container" << ran(r, 0);
    return key_values(r.out);
}

// While one is alive, this process (so every lab it starts) holds CAP_CHOWN
// in its inheritable and ambient sets: a runtime started by a service with
// ambient capabilities. Root's exec keeps them unless the runtime clears them.
class InheritedAmbient {
  public:
    InheritedAmbient() {
        nslab::caps::Sets::current().raise(CAP_INHERITABLE, {CAP_CHOWN}).apply();
        ok_ = ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0) == 0;
    }
    ~InheritedAmbient() {
        nslab::caps::clear_ambient();
        nslab::caps::Sets::current().apply();  // permitted, effective as they are
        cap_t caps = cap_get_proc();
        cap_clear_flag(caps, CAP_INHERITABLE);
        cap_set_proc(caps);
        cap_free(caps);
    }
    bool ok() const { return ok_; }

  private:
    bool ok_ = false;
};

}  // namespace

TEST(Confine, CapabilitiesAreDockersDefault) {
    claim(3, "lab11 step 3 (the bounding set, then permitted and effective)");
    const std::string docker = mask_of(nslab::caps::docker_default());
    for (const Way& way : ways()) {
        SCOPED_TRACE(way.name);
        auto status = confine_probe(way);
        for (const char* set : {"CapBnd", "CapPrm", "CapEff"})
            EXPECT_EQ(status[std::string("status.") + set], docker)
                << set << " of the command inside (" << way.name
                << ") should be Docker's 14 capabilities, no more, no fewer"
                << note(std::string(set) + ": " + docker,
                        std::string(set) + ": " + status[std::string("status.") + set]);
    }
}

TEST(Confine, InheritableAndAmbientAreEmpty) {
    claim(2, "lab11 step 3 (inheritable and ambient empty)");
    InheritedAmbient inherited;
    ASSERT_TRUE(inherited.ok()) << "the grader could not raise CAP_CHOWN in its own ambient set"
                                << note("prctl(PR_CAP_AMBIENT_RAISE) works as root", "refused");
    const std::string none(16, '0');
    for (const Way& way : ways()) {
        SCOPED_TRACE(way.name);
        auto status = confine_probe(way);
        for (const char* set : {"CapInh", "CapAmb"})
            EXPECT_EQ(status[std::string("status.") + set], none)
                << set
                << " inside should be empty even when the runtime was started with "
                   "CAP_CHOWN inheritable and ambient ("
                << way.name << ")"
                << note(std::string(set) + ": " + none,
                        std::string(set) + ": " + status[std::string("status.") + set]);
    }
}

TEST(Confine, CapAddAndCapDropChangeTheSet) {
    claim(2, "lab11 step 3 (the container's set: --cap-add, --cap-drop)");
    std::vector<nslab::caps::Cap> changed = nslab::caps::docker_default();
    std::erase(changed, CAP_CHOWN);
    changed.push_back(CAP_SYS_ADMIN);
    const std::string expected = mask_of(changed), none(16, '0');
    for (const Way& way : ways()) {
        SCOPED_TRACE(way.name);
        auto status = confine_probe(way, {"--cap-drop", "CHOWN", "--cap-add", "SYS_ADMIN"});
        EXPECT_EQ(status["status.CapEff"], expected)
            << "--cap-drop CHOWN --cap-add SYS_ADMIN: CapEff should lose bit 0 and gain bit 21"
            << note("CapEff: " + expected, "CapEff: " + status["status.CapEff"]);
        EXPECT_EQ(status["status.CapBnd"], expected)
            << "the bounding set follows --cap-add and --cap-drop too"
            << note("CapBnd: " + expected, "CapBnd: " + status["status.CapBnd"]);
        status = confine_probe(way, {"--cap-drop", "ALL"});
        EXPECT_EQ(status["status.CapBnd"] + status["status.CapEff"], none + none)
            << "--cap-drop ALL: no capability at all"
            << note("CapBnd and CapEff: " + none,
                    "CapBnd: " + status["status.CapBnd"] + ", CapEff: " + status["status.CapEff"]);
    }
}

TEST(Confine, NoNewPrivsAndSeccompAreOn) {
    claim(2, "lab11 step 3 (no_new_privs, then the filter)");
    for (const Way& way : ways()) {
        SCOPED_TRACE(way.name);
        auto status = confine_probe(way);
        EXPECT_EQ(status["status.NoNewPrivs"] + " " + status["status.Seccomp"], "1 2")
            << "/proc/self/status inside: NoNewPrivs 1 (prctl PR_SET_NO_NEW_PRIVS) and Seccomp 2 "
               "(a filter) ("
            << way.name << ")"
            << note("NoNewPrivs: 1, Seccomp: 2", "NoNewPrivs: " + status["status.NoNewPrivs"] +
                                                     ", Seccomp: " + status["status.Seccomp"]);
        status = confine_probe(way, {"--no-new-privs=false", "--seccomp", "unconfined"});
        EXPECT_EQ(status["status.NoNewPrivs"] + " " + status["status.Seccomp"], "0 0")
            << "--no-new-privs=false --seccomp unconfined turn both off"
            << note("NoNewPrivs: 0, Seccomp: 0", "NoNewPrivs: " + status["status.NoNewPrivs"] +
                                                     ", Seccomp: " + status["status.Seccomp"]);
    }
}

TEST(Confine, SyscallsDockerDeniesAreRefused) {
    claim(3, "lab11 steps 2 and 3 (the filter, with its clone rule)");
    for (const Way& way : ways()) {
        SCOPED_TRACE(way.name);
        auto outcome = confine_probe(way);
        for (const char* call : {"open_by_handle_at", "clone.newuser", "unshare.newuser", "bpf",
                                 "perf_event_open", "keyctl", "userfaultfd", "init_module"})
            EXPECT_EQ(outcome[call], "denied EPERM")
                << call << " should fail with EPERM inside (" << way.name
                << "): lab 08 lets it through"
                << note(std::string(call) + ": denied EPERM",
                        std::string(call) + ": " + outcome[call]);
    }
}

TEST(Confine, MountNeedsSysAdmin) {
    claim(2, "lab11 step 3 (the bounding set; the filter follows the set)");
    for (const Way& way : ways()) {
        SCOPED_TRACE(way.name);
        auto outcome = confine_probe(way);
        EXPECT_EQ(outcome["mount"], "denied EPERM")
            << "mount of a tmpfs inside should fail without CAP_SYS_ADMIN (" << way.name << ")"
            << note("mount: denied EPERM", "mount: " + outcome["mount"]);
        outcome = confine_probe(way, {"--cap-add", "SYS_ADMIN"});
        EXPECT_EQ(outcome["mount"], "allowed")
            << "--cap-add SYS_ADMIN should make mount work again (capability and filter both)"
            << note("mount: allowed", "mount: " + outcome["mount"]);
    }
}

TEST(Confine, MaskedPathsShowNothing) {
    claim(3, "lab11 step 1 (masked and read-only paths)");
    for (const Way& way : ways()) {
        SCOPED_TRACE(way.name);
        auto outcome = confine_probe(way);
        EXPECT_TRUE(outcome["kcore"] == "empty" || outcome["kcore"].starts_with("denied"))
            << "/proc/kcore (the kernel's memory) should read as nothing (" << way.name << ")"
            << note("kcore: empty", "kcore: " + outcome["kcore"]);
        EXPECT_EQ(outcome["kallsyms"], "zeroed")
            << "/proc/kallsyms should show no kernel address (no CAP_SYSLOG)"
            << note("kallsyms: zeroed", "kallsyms: " + outcome["kallsyms"]);
        for (const char* path : {"/proc/sys/kernel/core_pattern", "/proc/sysrq-trigger"}) {
            const std::string key = std::string("write ") + path;
            EXPECT_TRUE(outcome[key].starts_with("denied"))
                << path << " should not open for writing inside (read-only)"
                << note(key + ": denied EROFS", key + ": " + outcome[key]);
        }
        Result r = run(lab(), way.options,
                       {"/bin/sh", "-c",
                        "for f in /proc/keys /proc/timer_list /proc/sched_debug; do "
                        "[ -e $f ] && echo $f $(wc -c < $f); done; ls -A /sys/firmware | wc -l"});
        EXPECT_EQ(r.status, 0) << "a shell should run inside" << ran(r, 0);
        for (const char* path : {"/proc/keys ", "/proc/timer_list ", "/proc/sched_debug "}) {
            if (r.out.find(path) == std::string::npos) continue;  // not on this kernel
            EXPECT_HAS(r.out, std::string(path) + "0\n")
                << path << "should read as empty inside (masked by /dev/null)";
        }
        EXPECT_TRUE(r.out.ends_with("\n0\n") || r.out == "0\n")
            << "/sys/firmware inside should be an empty directory"
            << note("0 entries in /sys/firmware", r.out);
    }
}

TEST(Confine, OnlyDockersDevicesOpen) {
    claim(3, "lab11 handout: devices (given code)");
    const auto [disk, fstype] = host_root_disk();
    for (const Way& way : ways()) {
        SCOPED_TRACE(way.name);
        // The console (c 5:1) opens for root on any host; the disk may not
        // (some hosts refuse even their own root that).
        Result r = run(lab(), way.options,
                       probe({"node-open", "c", "5:1", ",", "host-disk", disk, fstype}));
        ASSERT_EQ(r.status, 0) << "the probe should run in the confined container" << ran(r, 0);
        auto outcome = key_values(r.out);
        EXPECT_EQ(outcome["node.open"], "denied EPERM")
            << "a node of the host's console (c 5:1, not one of Docker's devices) made inside "
               "should not open ("
            << way.name << ")"
            << note("node.open: denied EPERM", "node.open: " + outcome["node.open"]);
        EXPECT_EQ(outcome["disk.open"].substr(0, 12), "denied EPERM")
            << "a node of the host's disk (" << disk << ") made inside should not open ("
            << way.name << "): the container's cgroup allows only Docker's devices"
            << note("disk.open: denied EPERM", "disk.open: " + outcome["disk.open"]);
        EXPECT_TRUE(outcome["disk.fsmount"].starts_with("denied"))
            << "nor should its file system mount, read-only or not"
            << note("disk.fsmount: denied EPERM", "disk.fsmount: " + outcome["disk.fsmount"]);
        r = run(lab(), way.options,
                {"/bin/sh", "-c",
                 "head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c && "
                 "echo x > /dev/null && echo x > /dev/full; echo full $?"});
        EXPECT_EQ(r.out, "4\n4\nfull 1\n")
            << "null, zero, full and urandom should still work inside"
            << note("4, 4, full 1", r.out);
    }
}

TEST(Confine, CgroupLimitsCannotBeRaised) {
    claim(2, "lab11 step 3 (the bounding set; the filter follows the set)");
    for (const Way& way : ways()) {
        SCOPED_TRACE(way.name);
        Result r = run(lab(), with(way.options, {"--pids", "64"}), probe({"cgroup-raise", "128"}));
        ASSERT_EQ(r.status, 0) << "the probe should run in the confined container" << ran(r, 0);
        auto outcome = key_values(r.out);
        EXPECT_TRUE(outcome["cgroup.raise"].starts_with("denied"))
            << "the container should not raise its own pids.max from 64 to 128 (" << way.name
            << "): its cgroup files are read-only, and it may not mount them again"
            << note("cgroup.raise: denied EROFS", "cgroup.raise: " + outcome["cgroup.raise"]);
        EXPECT_EQ(outcome["cgroup.pids.max"], "64")
            << "pids.max inside after the attempt"
            << note("cgroup.pids.max: 64", "cgroup.pids.max: " + outcome["cgroup.pids.max"]);
        r = run(lab(), way.options, {"/bin/sh", "-c", "touch /sys/x 2>&1; echo $?"});
        EXPECT_TRUE(r.out.ends_with("1\n") && r.out.find("Read-only") != std::string::npos)
            << "/sys should be read-only inside" << note("Read-only file system, 1", r.out);
    }
}

TEST(Confine, SetuidFileGainsNothing) {
    claim(2, "lab11 step 3 (no_new_privs)");
    for (const Way& way : ways()) {
        SCOPED_TRACE(way.name);
        // SYS_ADMIN lets the probe mount a tmpfs without nosuid to plant it on.
        Result r =
            run(lab(), with(way.options, {"--cap-add", "SYS_ADMIN"}), probe({"setuid-gain"}));
        ASSERT_EQ(r.status, 0) << "the probe should run in the confined container" << ran(r, 0);
        auto fields = key_values(r.out);
        ASSERT_EQ(fields["setuid.mount"], "allowed")
            << "the control failed: no tmpfs without nosuid to plant the file on"
            << note("setuid.mount: allowed", "setuid.mount: " + fields["setuid.mount"]);
        EXPECT_EQ(fields["setuid.euid"], "1000")
            << "a setuid-root file run by uid 1000 inside should gain nothing (" << way.name << ")"
            << note("setuid.euid: 1000", "setuid.euid: " + fields["setuid.euid"] + "; " + r.err);
        r = run(lab(), with(way.options, {"--cap-add", "SYS_ADMIN", "--no-new-privs=false"}),
                probe({"setuid-gain"}));
        EXPECT_EQ(key_values(r.out)["setuid.euid"], "0")
            << "the control: with --no-new-privs=false the same file does make uid 1000 root"
            << note("setuid.euid: 0", "setuid.euid: " + key_values(r.out)["setuid.euid"]);
    }
}

TEST(Confine, OrdinaryProgramsStillWork) {
    claim(2, "lab11 step 3 (the container's set is Docker's, not none)");
    for (const Way& way : ways()) {
        SCOPED_TRACE(way.name);
        Result r = run(lab(), way.options,
                       {"/bin/sh", "-c",
                        "ls / > /dev/null && ps > /dev/null && touch /owned && "
                        "chown 1000:1000 /owned && stat -c %u /owned"});
        EXPECT_EQ(r.status, 0) << "sh, ls, ps, touch and chown in the root layer should work "
                                  "inside ("
                               << way.name << ")" << ran(r, 0);
        EXPECT_EQ(r.out, "1000\n")
            << "chown in the container's own layer (CAP_CHOWN)" << note("1000", r.out + r.err);
        auto outcome = confine_probe(way);
        EXPECT_EQ(outcome["raw_socket"] + ", " + outcome["bind80"], "allowed, allowed")
            << "a raw socket (ping, CAP_NET_RAW) and port 80 (CAP_NET_BIND_SERVICE) inside"
            << note("raw_socket: allowed, bind80: allowed",
                    "raw_socket: " + outcome["raw_socket"] + ", bind80: " + outcome["bind80"]);
    }
}

TEST(Confine, SeccompProfileFromAFileIsHonoured) {
    claim(2, "lab11 handout: a profile from a file (given code)");
    TempDir dir;
    const std::string profile = dir.path() + "/profile.json";
    {
        std::FILE* file = std::fopen(profile.c_str(), "w");
        ASSERT_NE(file, nullptr) << "the grader could not write its profile"
                                 << note("a file " + profile, "cannot write it");
        std::fputs(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]})",
                   file);
        std::fclose(file);
    }
    for (const Way& way : ways()) {
        SCOPED_TRACE(way.name);
        Result r = run(lab(), with(way.options, {"--seccomp", profile}),
                       {"/bin/sh", "-c", "mkdir /tmp/d 2>&1; grep Seccomp: /proc/self/status"});
        EXPECT_HAS(r.out, "Permission denied")
            << "the profile answers mkdir with errno 13 (EACCES) (" << way.name << ")";
        EXPECT_HAS(r.out, "Seccomp:\t2") << "the profile is a filter in force";
        auto outcome = confine_probe(way, {"--seccomp", profile});
        EXPECT_EQ(outcome["keyctl"], "allowed")
            << "the profile replaces the default filter, which refuses keyctl"
            << note("keyctl: allowed", "keyctl: " + outcome["keyctl"]);
    }
}

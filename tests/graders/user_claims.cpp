// Lab 05's claims: the user namespace, its maps, and rootless containers.
// They run against every later lab's executable too.
//
// Two kinds of run. As root with --uid-map/--gid-map 0:100000:65536, so
// that the container's root is host uid 100000. And rootless: the lab
// started by an ordinary user (RunAs), a uid with no passwd entry chosen
// here (or NSLAB_ROOTLESS_UID), so no account is added to the machine.
#include <fcntl.h>
#include <grp.h>
#include <linux/nsfs.h>
#include <pwd.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness.hpp"
#include "nslab/idmap.hpp"
#include "nslab/labs.hpp"
#include "nslab/observe.hpp"
#include "nslab/sys.hpp"

using namespace grader;

namespace {

const std::vector<std::string> ranges = {"--userns", "--uid-map", "0:100000:65536", "--gid-map",
                                         "0:100000:65536"};

// "0 100000 65536" lines, whitespace as the kernel pads it, normalised.
std::string map_of(pid_t pid, const std::string& file) {
    std::istringstream in(nslab::sys::read_file("/proc/" + std::to_string(pid) + "/" + file));
    std::string lines, a, b, c;
    while (in >> a >> b >> c) lines += a + " " + b + " " + c + "\n";
    return lines;
}

std::string proc_file(pid_t pid, const std::string& file) {
    return nslab::sys::read_file("/proc/" + std::to_string(pid) + "/" + file);
}

std::string trim(std::string text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.erase(0, 1);
    return text;
}

// The inode of the user namespace that owns process pid's namespace `type`.
ino_t owner_of(pid_t pid, const std::string& type) {
    nslab::Fd ns = nslab::sys::open("/proc/" + std::to_string(pid) + "/ns/" + type, O_RDONLY);
    nslab::Fd owner(nslab::sys::check(::ioctl(ns.get(), NS_GET_USERNS), "ioctl(NS_GET_USERNS)"));
    struct stat st {};
    nslab::sys::check(::fstat(owner.get(), &st), "fstat(owner)");
    return st.st_ino;
}

// The default map of --userns run by root: user nslab's subordinate ids,
// as /proc/PID/uid_map shows them.
std::string default_map(const std::string& file) {
    auto range = nslab::idmap::subordinate_range(nslab::sys::read_file(file),
                                                 nslab::idmap::subordinate_user, UINT32_MAX);
    if (!range)
        throw std::runtime_error("no range of user nslab in " + file + ": run ./nslab setup");
    return nslab::idmap::text({*range});
}

// A temporary copy of the rootfs with a root-only file /secret in it.
class RootfsWithSecret {
  public:
    RootfsWithSecret() {
        std::ofstream(dir() + "/secret") << "root only\n";
        ::chmod((dir() + "/secret").c_str(), 0600);
    }
    const std::string& dir() const { return copy_.path(); }

  private:
    TempDir copy_{TempDir::Holding::rootfs};
};

}  // namespace

TEST(User, MapsHoldExactlyWhatWasAsked) {
    claim(3, "lab05 steps 2-4 (write the maps)");
    auto c = Running::start(lab(), with(ranges, {"--uid-map", "65536:300000:1"}), probe({"hold"}));
    EXPECT_EQ(map_of(c.container_pid(), "uid_map"), "0 100000 65536\n65536 300000 1\n")
        << "/proc/PID/uid_map should hold the two --uid-map ranges, in order";
    EXPECT_EQ(map_of(c.container_pid(), "gid_map"), "0 100000 65536\n")
        << "/proc/PID/gid_map should hold the --gid-map range";
    EXPECT_EQ(proc_file(c.container_pid(), "setgroups"), "allow\n")
        << "root on the host may leave setgroups allowed (the handout explains why)";

    auto d = Running::start(lab(), {"--userns"}, probe({"hold"}));
    EXPECT_EQ(map_of(d.container_pid(), "uid_map"), default_map("/etc/subuid"))
        << "without --uid-map, root's container maps user nslab's subordinate uids";
    EXPECT_EQ(map_of(d.container_pid(), "gid_map"), default_map("/etc/subgid"))
        << "without --gid-map, root's container maps user nslab's subordinate gids"
        << note("gid_map " + default_map("/etc/subgid"),
                "gid_map " + map_of(d.container_pid(), "gid_map"));

    Result overlap =
        run(lab(), {"--userns", "--uid-map", "0:100000:10", "--uid-map", "5:200000:1"}, {"true"});
    EXPECT_EQ(overlap.status, 2) << "overlapping ranges are a bad command line: " << overlap.err;
    EXPECT_NE(overlap.err.find("--uid-map"), std::string::npos)
        << "the error names the option" << says(overlap, "--uid-map");
}

TEST(User, RootInsideIsUid0) {
    claim(3, "lab05 step 5 (become root of the namespace)");
    Result id = run(lab(), ranges, {"/bin/sh", "-c", "id -u; id -g"});
    ASSERT_EQ(id.status, 0) << ran(id, 0);
    EXPECT_EQ(id.out, "0\n0\n") << "busybox id inside should say uid 0 and gid 0";
    Result status = run(lab(), with(ranges, unconfined(lab())), probe({"uid"}));
    ASSERT_EQ(status.status, 0) << ran(status, 0);
    auto fields = key_values(status.out);
    EXPECT_HAS(status.out, "Uid:\t0\t0\t0\t0\n")
        << "real, effective, saved and fs uid should all be 0 inside: " << status.out;
    EXPECT_NE(status.out.find("Gid:\t0\t0\t0\t0\n"), std::string::npos)
        << "real, effective, saved and fs gid are 0 inside" << note("Gid: 0 0 0 0", status.out);
    EXPECT_HAS(status.out, "CapEff:\t000001ffffffffff")
        << "uid 0 of its own namespace keeps every capability across execve: " << status.out;
}

TEST(User, HostSeesTheUnprivilegedOwner) {
    claim(2, "lab05 step 5 (ids seen from the host)");
    auto c = Running::start(lab(), ranges, probe({"hold"}));
    std::string pid = std::to_string(c.container_pid());
    std::string uid = trim(run_host("ps -o uid= -p " + pid));
    EXPECT_EQ(uid, "100000") << "host ps should show the container's root as host uid 100000";
    EXPECT_EQ(nslab::observe::status(c.container_pid()).uid, 100000u)
        << "/proc/PID/status Uid, read from the host";
    std::string user = trim(run_host("ps -o user= -p " + pid));
    EXPECT_NE(user, "root") << "host ps -o user says " << user;
}

TEST(User, NewUserNamespaceOwnsTheOthers) {
    claim(2, "lab05 step 1 (CLONE_NEWUSER in the same clone)");
    auto c = Running::start(lab(), ranges, probe({"hold"}));
    auto host = namespaces_of(::getpid());
    auto inside = namespaces_of(c.container_pid());
    ASSERT_NE(inside["user"], host["user"]) << "expected a new user namespace";
    for (const char* type : {"pid", "mnt", "uts", "net"})
        EXPECT_EQ(owner_of(c.container_pid(), type), inside["user"])
            << "the container's " << type
            << " namespace should be owned by its new user namespace (made first, in the same "
               "clone), not by the host's";
    std::string userns = trim(run_host("ps -o userns= -p " + std::to_string(c.container_pid())));
    EXPECT_EQ(userns, std::to_string(inside["user"])) << "host ps -o userns";
}

TEST(User, RootInsideHasNoHostPrivilege) {
    claim(3, "lab05 handout: capabilities inside and outside");
    auto c = Running::start(lab(), ranges, probe({"hold"}));
    const pid_t pid = c.container_pid();
    // Host-side: a process that joins only the container's user namespace
    // holds every capability there, and none over the host's UTS namespace.
    pid_t child = nslab::sys::fork();
    if (child == 0) {
        int user = ::open(("/proc/" + std::to_string(pid) + "/ns/user").c_str(), O_RDONLY);
        int uts = ::open(("/proc/" + std::to_string(pid) + "/ns/uts").c_str(), O_RDONLY);
        if (user < 0 || uts < 0 || ::setns(user, CLONE_NEWUSER) != 0) ::_exit(10);
        char name[256] = {};
        ::gethostname(name, sizeof name - 1);
        // The host's own name, so nothing changes even if this were allowed.
        if (::sethostname(name, std::strlen(name)) == 0) ::_exit(11);
        if (errno != EPERM) ::_exit(12);
        if (::setns(uts, CLONE_NEWUTS) != 0) ::_exit(13);
        ::_exit(::sethostname("joined", 6) == 0 ? 0 : 14);
    }
    int status = nslab::sys::waitpid(child, 0);
    EXPECT_NE(status, 11 << 8)
        << "root of the container's user namespace could set the HOST's hostname";
    EXPECT_EQ(status, 0) << "joined the container's user namespace: expected EPERM for the "
                            "host's hostname and success in the container's UTS namespace (exit "
                         << (status >> 8) << ")";
    c.close_stdin();
    c.finish();

    Result inside = run(lab(), with(ranges, unconfined(lab())), probe({"privileges", "inner"}));
    ASSERT_EQ(inside.status, 0) << ran(inside, 0);
    auto fields = key_values(inside.out);
    EXPECT_EQ(fields["CapEff"], "000001ffffffffff") << "every capability, in its own namespace";
    EXPECT_EQ(fields["sethostname"], "ok") << "its own UTS namespace is owned by its user ns";
    EXPECT_EQ(fields["swapoff"], "EPERM") << "swapoff(2) needs CAP_SYS_ADMIN on the host";
    EXPECT_EQ(fields["setpriority"], "EACCES")
        << "raising its priority needs CAP_SYS_NICE on the host";
    // The negative control: the grader, host root, gets past both checks.
    auto host = key_values(run_host(bin_dir() + "/probe privileges"));
    EXPECT_EQ(host["swapoff"], "ENOENT") << "host root passes the capability check";
    EXPECT_EQ(host["setpriority"], "ok") << "host root may raise its priority";
}

TEST(User, CannotReadARootOnlyHostFile) {
    claim(2, "lab05 handout: root inside is not root outside");
    RootfsWithSecret rootfs;
    Result r = run(lab(), with(ranges, {"--rootfs", rootfs.dir()}),
                   probe({"open", "/secret", ",", "open", "/bin/busybox"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_HAS(r.out, "open: EACCES\nopen: ok\n")
        << "a 0600 file of host root is unreadable to the container's root (host uid 100000), "
           "while a world-readable one opens; observed: "
        << r.out;
}

TEST(User, RootlessMapsAndSetgroups) {
    claim(3, "lab05 steps 2-4 (rootless: setgroups deny before gid_map)");
    const uid_t uid = rootless_uid();
    ASSERT_NO_FATAL_FAILURE(expect_reachable(uid, lab())) << "the test user reaches the lab";
    RunAs user(uid, uid);
    auto c = Running::start(lab(), {"--userns"}, probe({"hold"}));
    const std::string own = "0 " + std::to_string(uid) + " 1\n";
    EXPECT_EQ(map_of(c.container_pid(), "uid_map"), own) << "a user may map only its own uid";
    EXPECT_EQ(map_of(c.container_pid(), "gid_map"), own) << "...and its own gid";
    EXPECT_EQ(proc_file(c.container_pid(), "setgroups"), "deny\n")
        << "unprivileged, gid_map is accepted only after setgroups is denied (CVE-2014-8989)";
    EXPECT_EQ(trim(run_host("ps -o uid= -p " + std::to_string(c.container_pid()))),
              std::to_string(uid))
        << "host ps shows the user who ran it";
}

TEST(User, RootlessRunWorksEndToEnd) {
    claim(4, "lab05 handout: rootless containers");
    const uid_t uid = rootless_uid();
    ASSERT_NO_FATAL_FAILURE(expect_reachable(uid, lab())) << "the test user reaches the lab";
    RunAs user(uid, uid);
    Result r = run(lab(), {"--userns", "--hostname", "rootless"},
                   probe({"pid", ",", "hostname", ",", "uid", ",", "exit", "3"}));
    EXPECT_EQ(r.status, 3) << "the command's exit status passes through: " << r.err;
    auto fields = key_values(r.out);
    EXPECT_EQ(fields["pid"], "1") << "rootless, the command is PID 1"
                                  << note("pid 1", fields["pid"]);
    EXPECT_EQ(fields["hostname"], "rootless")
        << "rootless, the hostname is set" << note("hostname rootless", fields["hostname"]);
    EXPECT_NE(r.out.find("Uid:\t0\t0\t0\t0\n"), std::string::npos)
        << "rootless, the command is uid 0 inside" << note("Uid: 0 0 0 0", r.out);
    Result id = run(lab(), {"--userns"}, {"/bin/sh", "-c", "id -u"});
    EXPECT_EQ(id.out, "0\n") << "busybox id, rootless: " << id.err;

    Result bridge = run(lab(), {"--userns", "--net", "bridge"}, {"true"});
    EXPECT_EQ(bridge.status, 2) << "--net bridge needs root: refused up front";
    EXPECT_NE(bridge.err.find("--net bridge needs root"), std::string::npos)
        << "the error says why" << says(bridge, "--net bridge needs root");
    Result no_userns = run(lab(), {}, {"true"});
    EXPECT_EQ(no_userns.status, 2)
        << "rootless without --userns is a bad command line" << ran(no_userns, 2);
    EXPECT_HAS(no_userns.err, "--userns")
        << "a user without --userns should be told about it: " << no_userns.err;
}

TEST(User, EarlierLayersWorkRootless) {
    claim(3, "lab05 handout: why the user namespace comes first");
    const uid_t uid = rootless_uid();
    ASSERT_NO_FATAL_FAILURE(expect_reachable(uid, lab())) << "the test user reaches the lab";
    RunAs user(uid, uid);
    auto c = Running::start(lab(), {"--userns"}, probe({"hold"}));
    auto host = namespaces_of(::getpid());
    auto inside = namespaces_of(c.container_pid());
    for (const char* type : {"user", "pid", "mnt", "uts", "net"})
        EXPECT_NE(inside[type], host[type])
            << "a rootless container still gets its own " << type << " namespace";
    c.close_stdin();
    c.finish();
    Result pids = run(lab(), {"--userns"}, probe({"pids"}));
    ASSERT_EQ(pids.status, 0) << ran(pids, 0);
    EXPECT_EQ(pids.out, "pid: 1\n") << "its own /proc shows only the container";
    Result ps = run(lab(), {"--userns"}, {"/bin/ps", "-o", "pid,user"});
    EXPECT_HAS(ps.out, "1 root") << "busybox ps inside: " << ps.out;
}

TEST(User, RefusedUserNamespacesAreExplained) {
    claim(2, "lab05 handout: when the host forbids user namespaces");
    // user.max_user_namespaces is per user namespace: set to 0 inside a
    // scratch one (unshare -r), it forbids the lab's clone there without
    // touching the machine's setting.
    std::string out = run_host(
        "unshare --user --map-root-user sh -c 'echo 0 > "
        "/proc/sys/user/max_user_namespaces && exec " +
        lab_executable(lab()) +
        " --userns --net none -- /bin/true' 2>&1; "
        "echo status: $?");
    EXPECT_NE(out.find("status: 125"), std::string::npos)
        << "with no user namespaces allowed, the runtime fails" << note("status: 125", out);
    EXPECT_HAS(out, "user.max_user_namespaces is 0")
        << "the error should name the sysctl that forbids user namespaces: " << out;
    EXPECT_HAS(out, "sysctl -w user.max_user_namespaces=") << "...and how to allow them: " << out;
}

TEST(User, RootsDefaultMapGivesNothingOnTheHost) {
    claim(1, "lab05 --userns as root (the runtime's default maps: nothing to write)");
    // The container's root is an ordinary host uid: user nslab's first subordinate one.
    auto c = Running::start(lab(), {"--userns"}, probe({"hold"}));
    const auto uids = nslab::observe::status(c.container_pid()).uid;
    EXPECT_NE(uids, 0u) << "--userns as root made the container's root the host's uid 0";
    EXPECT_EQ(default_map("/etc/subuid").substr(0, 2), "0 ")
        << "the default map starts at uid 0 inside" << note("0 ...", default_map("/etc/subuid"));
    c.close_stdin();
    c.finish();

    // A setuid-root binary it tries to make, in a private copy of the rootfs,
    // from a file the test made: run on the host by nobody, it is nobody.
    TempDir copy(TempDir::Holding::rootfs);
    const std::string suid = copy.path() + "/suid";
    std::filesystem::copy_file(copy.path() + "/bin/probe", suid);
    ::chmod(suid.c_str(), 0755);
    run(lab(), {"--userns", "--rootfs", copy.path(), "--rootfs-writable"},
        {"/bin/sh", "-c", "chown 0:0 /suid; chmod 4755 /suid; true"});
    struct stat st {};
    ASSERT_EQ(::stat(suid.c_str(), &st), 0)
        << "the file made inside exists" << note(suid + " exists", std::strerror(errno));
    EXPECT_FALSE((st.st_mode & S_ISUID) && st.st_uid == 0)
        << "the container made a setuid-root file on the host";
    const std::string ids =
        run_host("setpriv --reuid 65534 --regid 65534 --clear-groups " + suid + " uid");
    EXPECT_LACKS(ids, "Uid:\t65534\t0\t") << "nobody got euid 0 from a file the container made:\n"
                                          << ids;

    // Host-wide sysctls (opened, never written) are not writable inside.
    Result r = run(lab(), {"--userns"},
                   probe({"open-write", "/proc/sys/kernel/core_pattern", ",", "open-write",
                          "/proc/sys/vm/drop_caches"}));
    EXPECT_LACKS(r.out, "open-write: allowed")
        << "a host-wide sysctl opened for writing from inside:\n"
        << r.out << r.err;
    EXPECT_NE(r.out.find("open-write: denied"), std::string::npos)
        << "the host sysctl does not open for writing" << note("open-write: denied", r.out);

    // Its own cgroup's limits cannot be raised, even after a remount read-write.
    if (!nslab::lab_has(lab(), nslab::Layer::cgroup)) return;
    r = run(lab(), {"--userns", "--pids", "50"},
            {"/bin/sh", "-c",
             "mount -o remount,rw /sys/fs/cgroup 2>/dev/null; mount -o remount,rw "
             "/sys/fs/cgroup/pids 2>/dev/null; for f in /sys/fs/cgroup/pids.max "
             "/sys/fs/cgroup/pids/pids.max; do [ -e $f ] && /bin/probe open-write $f; done; true"});
    EXPECT_HAS(r.out, "open-write: denied") << "pids.max not found inside, or not refused:\n"
                                            << r.out << r.err;
    EXPECT_LACKS(r.out, "open-write: allowed") << "the container may raise its own pids.max:\n"
                                               << r.out << r.err;
}

// Lab 01's claims: the PID namespace and PID 1's duties. They run against
// every later lab's executable too.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "harness.hpp"
#include "nslab/labs.hpp"
#include "nslab/observe.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sealed_self.hpp"
#include "nslab/sys.hpp"

using namespace grader;

namespace {

// The layer that makes each namespace type new (the user namespace only
// with --userns, which these claims do not pass): its lab's step 1 is where
// the clone flag goes.
struct TypeLayer {
    std::optional<nslab::Layer> layer;
    const char* flag;
};
TypeLayer layer_of(const std::string& type) {
    using nslab::Layer;
    if (type == "pid" || type == "pid_for_children") return {Layer::pid, "CLONE_NEWPID"};
    if (type == "mnt") return {Layer::mount, "CLONE_NEWNS"};
    if (type == "uts") return {Layer::uts, "CLONE_NEWUTS"};
    if (type == "net") return {Layer::net, "CLONE_NEWNET"};
    if (type == "cgroup") return {Layer::cgroup, "CLONE_NEWCGROUP"};
    if (type == "time" || type == "time_for_children") return {Layer::time, "CLONE_NEWTIME"};
    if (type == "ipc") return {Layer::ipc, "CLONE_NEWIPC"};
    return {std::nullopt, "CLONE_NEWUSER"};  // only with --userns
}

std::string step_of(const TypeLayer& t) {
    char lab[8];
    std::snprintf(lab, sizeof lab, "lab%02d", t.layer ? static_cast<int>(*t.layer) : 5);
    return std::string(lab) + " step 1 (" + t.flag + ")";
}

}  // namespace

TEST(Pid, NSpidHasTwoLevelsEndingIn1) {
    claim(3, "lab01 step 1 (CLONE_NEWPID)");
    auto c = Running::start(lab(), {}, probe({"hold"}));
    auto nspid = nspid_of(c.container_pid());
    ASSERT_EQ(nspid.size(), 2u) << "expected NSpid with two PIDs (host, container), observed "
                                << nspid.size() << " in /proc/" << c.container_pid() << "/status";
    EXPECT_EQ(nspid.front(), c.container_pid()) << "the first NSpid entry is the host PID";
    EXPECT_EQ(nspid.back(), 1) << "the last NSpid entry is the PID inside: 1";
    EXPECT_EQ(nslab::observe::status(c.container_pid()).ppid, c.runtime_pid())
        << "on the host, the container's PID 1 is the runtime's child";
}

TEST(Pid, NewNamespacesAreExactlyTheLabs) {
    claim(3, "lab01 step 1 (clone flags)");
    auto c = Running::start(lab(), {}, probe({"hold"}));
    auto host = namespaces_of(::getpid());
    auto inside = namespaces_of(c.container_pid());
    for (const auto& [type, inode] : host) {
        const TypeLayer t = layer_of(type);
        const std::string host_ns = type + ":[" + std::to_string(inode) + "], the host's";
        const std::string seen = type + ":[" + std::to_string(inside[type]) + "]";
        if (t.layer && nslab::lab_has(lab(), *t.layer))
            EXPECT_NE(inside[type], inode)
                << "/proc/PID/ns/" << type << " of the container is the host's: " << t.flag
                << " is missing from the clone flags"
                << note("a new " + type + " namespace (not " + host_ns + ")", seen, step_of(t));
        else
            EXPECT_EQ(inside[type], inode)
                << "/proc/PID/ns/" << type << " of the container is new, but lab " << lab()
                << " does not isolate " << type << ": " << t.flag << " is in the clone flags"
                << note(host_ns, seen + ", a new one", step_of(t));
    }
    std::string pidns = run_host("ps -o pidns= -p " + std::to_string(c.container_pid()));
    EXPECT_EQ(std::stoull(pidns), inside["pid"])
        << "host ps -o pidns agrees with /proc/PID/ns/pid"
        << note("pid:[" + std::to_string(inside["pid"]) + "]", "ps -o pidns says " + pidns);
    EXPECT_NE(std::stoull(pidns), host["pid"])
        << "host ps -o pidns shows the host's PID namespace"
        << note("a PID namespace other than pid:[" + std::to_string(host["pid"]) + "]",
                "ps -o pidns says " + pidns, "lab01 step 1 (CLONE_NEWPID)");
}

TEST(Pid, CommandIsPid1) {
    claim(2, "lab01 step 1");
    Result r = run(lab(), {}, probe({"pid"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto fields = key_values(r.out);
    EXPECT_EQ(fields["pid"], "1")
        << "getpid() inside: the command is the namespace's first process";
    EXPECT_EQ(fields["ppid"], "0") << "its parent is outside the namespace, so getppid() is 0";
}

TEST(Pid, InitMakesCommandPid2) {
    claim(2, "lab01 step 2 (--init)");
    Result r = run(lab(), {"--init"}, probe({"pid"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto fields = key_values(r.out);
    EXPECT_EQ(fields["pid"], "2") << "under --init the command is PID 2";
    EXPECT_EQ(fields["ppid"], "1") << "and the init, PID 1, is its parent";
}

TEST(Pid, InitReapsOrphans) {
    claim(3, "lab01 step 2 (reap every zombie)");
    auto c = Running::start(lab(), {"--init"}, probe({"zombies", "5"}));
    pid_t init = c.container_pid();
    // The orphans end 0.1 s after they are made; give the init 10 s to reap.
    std::vector<std::string> zombies;
    for (int i = 0; i < 200; ++i) {
        zombies.clear();
        for (pid_t kid : nslab::procfs::children(init)) {
            try {
                auto status = nslab::observe::status(kid);
                if (status.state == 'Z' || status.name != "probe")
                    zombies.push_back(std::to_string(kid));
            } catch (const std::system_error&) {
                // Reaped between the two reads: what the init should do.
            }
        }
        auto kids = nslab::procfs::children(init);
        if (zombies.empty() && kids.size() == 1) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(zombies.empty())
        << "the init (PID 1) left zombie children: it must wait for every child, not only the "
           "command"
        << note("no zombie among PID 1's children", "zombies: " + testing::PrintToString(zombies));
    EXPECT_EQ(nslab::procfs::children(init).size(), 1u) << "only the command should remain";
    expect_ends(c, 0, "the container ends with its command");
}

TEST(Pid, SigtermReachesCommandUnderInit) {
    claim(3, "lab01 step 2 (forward signals)");
    auto c = Running::start(lab(), {"--init"}, probe({"signal"}));
    c.signal_runtime(SIGTERM);
    EXPECT_EQ(c.read_line(), "signal: 15") << "the command should have received SIGTERM";
    Result r = c.finish();
    EXPECT_EQ(r.status, 128 + SIGTERM)
        << "the runtime ends as its command did" << ran(r, 128 + SIGTERM);
}

TEST(Pid, SigtermReachesCommandAsPid1) {
    claim(2, "lab01 handout: signals and PID 1");
    auto c = Running::start(lab(), {}, probe({"signal"}));
    c.signal_runtime(SIGTERM);
    EXPECT_EQ(c.read_line(), "signal: 15") << "the runtime forwards SIGTERM to the container";
    expect_ends(c, 128 + SIGTERM, "the runtime ends as its command did");
}

TEST(Pid, ExitStatusPassesThrough) {
    claim(3, "lab01 step 2 (exit status)");
    expect_status(run(lab(), {}, probe({"exit", "0"})), 0, "probe exit 0");
    expect_status(run(lab(), {}, probe({"exit", "3"})), 3, "probe exit 3");
    expect_status(run(lab(), {"--init"}, probe({"exit", "3"})), 3, "--init, probe exit 3");
    EXPECT_EQ(run(lab(), {"--init"}, probe({"raise", "15"})).status, 128 + 15)
        << "a command killed by SIGTERM ends the runtime with 128+15";
    Result as_pid1 = run(lab(), {}, probe({"raise", "15"}));
    EXPECT_EQ(as_pid1.status, 0)
        << "as PID 1 with no handler, the command ignores its own SIGTERM and exits 0";
}

TEST(Pid, PidFileHoldsTheHostPid) {
    claim(2, "lab01 --pid-file");
    auto c = Running::start(lab(), {}, probe({"hold"}));
    auto status = nslab::observe::status(c.container_pid());
    EXPECT_EQ(status.name, "probe") << "the pid file names the command's process (it has exec'd)";
    EXPECT_EQ(status.nspid.back(), 1)
        << "inside, the process is PID 1"
        << note("NSpid ending in 1", std::to_string(status.nspid.back()));
    std::string ready = c.first_line();
    EXPECT_EQ(ready, "ready 1") << "inside, the same process is PID 1";
}

TEST(Pid, BadInputGivesOneClearLine) {
    claim(2, "lab01 handout: exit statuses");
    Result missing = run(lab(), {}, {});
    EXPECT_EQ(missing.status, 2) << "no command is a bad command line" << ran(missing, 2);
    EXPECT_NE(missing.err.find("missing command"), std::string::npos)
        << "the error says so" << says(missing, "missing command");
    Result unknown = run(lab(), {"--no-such-option"}, {"true"});
    EXPECT_EQ(unknown.status, 2) << "an unknown option is a bad command line" << ran(unknown, 2);
    EXPECT_NE(unknown.err.find("--no-such-option"), std::string::npos)
        << "the error names the option" << says(unknown, "--no-such-option");
    Result not_found = run(lab(), {}, {"/no/such/command"});
    EXPECT_EQ(not_found.status, 127) << ran(not_found, 127);
    EXPECT_NE(not_found.err.find("/no/such/command"), std::string::npos)
        << "the error names the command" << says(not_found, "/no/such/command");
    EXPECT_EQ(std::count(not_found.err.begin(), not_found.err.end(), '\n'), 1)
        << "one line: " << not_found.err;
    Result not_executable = run(lab(), {}, {"/etc/passwd"});
    EXPECT_EQ(not_executable.status, 126) << ran(not_executable, 126);
}

TEST(Pid, ProcShowsWhichPidNamespace) {
    claim(1, nslab::lab_has(lab(), nslab::Layer::mount)
                 ? "lab02 step 4 (mount /proc)"
                 : "lab01 handout: why ps still shows the host");
    const bool own_proc = nslab::lab_has(lab(), nslab::Layer::mount);
    Result r = run(lab(), {}, probe({"pids"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    bool sees_grader = r.out.find("pid: " + std::to_string(::getpid()) + "\n") != std::string::npos;
    if (!own_proc)
        EXPECT_TRUE(sees_grader)
            << "lab 01 has no mount namespace: /proc is still the host's, so ps inside shows "
               "host processes (the source article's clone example claims otherwise)";
    else
        EXPECT_FALSE(sees_grader) << "with its own /proc the container sees only its processes";
}

TEST(Pid, PidFileNeitherClobbersNorFollows) {
    claim(1, "lab01 --pid-file (the runtime's own code: nothing to write)");
    TempDir dir;
    namespace fs = std::filesystem;
    const std::string copy = dir.path() + "/passwd", link = dir.path() + "/link";
    fs::copy_file("/etc/passwd", copy);
    const std::string before = nslab::sys::read_file(copy);
    Result r = run(lab(), {"--pid-file", copy}, probe({"exit", "0"}));
    EXPECT_EQ(r.status, 125) << "a --pid-file naming an existing file is refused:\n" << r.err;
    EXPECT_EQ(nslab::sys::read_file(copy), before) << "the runtime changed a file it did not write";
    fs::create_symlink(copy, link);
    r = run(lab(), {"--pid-file", link}, probe({"exit", "0"}));
    EXPECT_EQ(r.status, 125) << "a --pid-file that is a symbolic link is refused:\n" << r.err;
    EXPECT_TRUE(fs::is_symlink(link)) << "the symbolic link was removed";
    EXPECT_EQ(nslab::sys::read_file(copy), before) << "the runtime wrote through a symlink";

    // A stale pid file (its process is gone: a SIGKILLed runtime's) is
    // replaced, and removed at exit.
    const std::string stale = dir.path() + "/stale.pid";
    std::ofstream(stale) << "999999999\n";
    r = run(lab(), {"--pid-file", stale}, probe({"exit", "0"}));
    EXPECT_EQ(r.status, 0) << "a stale pid file is replaced:\n" << r.err;
    EXPECT_FALSE(fs::exists(stale)) << "the pid file the runtime wrote is removed at exit";

    // A pid file someone replaced while the container ran is not ours: kept.
    auto c = Running::start(lab(), {}, probe({"hold"}));
    const std::string other = dir.path() + "/other";
    std::ofstream(other) << "someone else's\n";
    fs::rename(other, c.pid_file());
    c.close_stdin();
    c.finish();
    EXPECT_TRUE(fs::exists(c.pid_file()))
        << "the runtime removed a file at the --pid-file path that it did not write";
}

TEST(Pid, InitRunsFromASealedCopy) {
    claim(1, "lab01 --init (the runtime's own code: CVE-2019-5736, nothing to write)");
    // --init's PID 1 is the runtime's own code inside the container: its
    // /proc/1/exe must be a sealed copy, never the binary on the host disk.
    auto c = Running::start(lab(), {"--init"}, probe({"hold"}));
    for (pid_t pid : {c.runtime_pid(), c.container_pid()}) {
        SCOPED_TRACE(pid == c.runtime_pid() ? "the runtime" : "PID 1 inside (--init)");
        nslab::Fd exe = nslab::sys::open("/proc/" + std::to_string(pid) + "/exe", O_RDONLY);
        const int seals = ::fcntl(exe.get(), F_GET_SEALS);  // -1 (EINVAL): not a memfd
        EXPECT_TRUE(seals != -1 &&
                    (seals & nslab::sealed_copy_seals()) == nslab::sealed_copy_seals())
            << "/proc/" << pid << "/exe ("
            << nslab::sys::readlink("/proc/" + std::to_string(pid) + "/exe")
            << ") is not a sealed memfd: a container could rewrite the runtime through it";
    }
}

// Lab 09's claims: a process that joins a running container (started with
// lab 08, every namespace type) is in all its namespaces, its cgroup, its
// root, and inside its PID namespace.
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "harness.hpp"
#include "nslab/command.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

using namespace grader;
using namespace std::chrono_literals;

namespace {

constexpr int container_lab = 8;
constexpr long long boottime_offset = 50000;

// A container to join: hostname, a file in its /tmp, a time offset, a
// cgroup with a limit, and PID 1 holding until the claim ends.
Running start_container() {
    return Running::start(container_lab,
                          {"--hostname", "joined", "--boottime-offset",
                           std::to_string(boottime_offset), "--pids", "64"},
                          {"/bin/sh", "-c", "echo marker > /tmp/marker && exec /bin/probe hold"});
}

std::vector<std::string> target(const Running& c) {
    return {"--pid", std::to_string(c.container_pid())};
}

// lab09_exec kept running (its command is the probe's "hold"), for a look
// at the joined process from the host.
class Joined {
  public:
    Joined(const Running& c, const std::vector<std::string>& command) {
        exec_ = spawn(9, {"--pid", std::to_string(c.container_pid())}, command, stdin_, stdout_,
                      stderr_);
        first_line_ = read_line();
        auto kids = nslab::procfs::children(exec_);
        if (kids.size() == 1) joined_ = kids.front();
    }
    ~Joined() {
        if (exec_ > 0) {
            ::kill(exec_, SIGKILL);
            if (joined_ > 0) ::kill(joined_, SIGKILL);
            ::waitpid(exec_, nullptr, 0);
        }
    }
    pid_t exec_pid() const { return exec_; }
    pid_t joined_pid() const { return joined_; }  // host PID of the command
    const std::string& first_line() const { return first_line_; }
    // "" when nothing came within 10 s: a lab that hangs fails the claim, not the grader.
    std::string read_line() { return grader::read_line(stdout_.get(), buffered_, 10s); }
    int finish() {
        stdin_.reset();
        bool timed_out = false;
        int status = wait_with_timeout(exec_, 30s, &timed_out);
        exec_ = -1;
        return status;
    }

  private:
    pid_t exec_ = -1, joined_ = -1;
    nslab::Fd stdin_, stdout_, stderr_;
    std::string buffered_, first_line_;
};

std::set<std::string> interfaces_in(const std::string& proc_net_dev) {
    std::set<std::string> names;
    std::istringstream lines(proc_net_dev);
    for (std::string line; std::getline(lines, line);) {
        size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        name.erase(0, name.find_first_not_of(' '));
        names.insert(name);
    }
    return names;
}

// A container whose time namespace its own user namespace does not own, as
// `unshare --time --fork -- unshare --user --map-root-user --pid --fork
// --mount-proc sleep 600` makes it (util-linux): host root makes the time
// namespace first, so the host's user namespace owns it, and the new user
// namespace owns the PID and mount namespaces made after it. All of it is
// one process group, killed at the end.
class TimeOwnedOutside {
  public:
    TimeOwnedOutside() {
        outer_ = nslab::command::start({.argv = {"unshare", "--time", "--fork", "--", "unshare",
                                                 "--user", "--map-root-user", "--pid", "--fork",
                                                 "--mount-proc", "--", "sleep", "600"},
                                        .own_process_group = true})
                     .pid;
        // The sleep is two generations below, PID 1 of its namespace.
        for (int i = 0; i < 1000 && inner_ <= 0; ++i) {
            pid_t p = outer_;
            for (int depth = 0; depth < 2 && p > 0; ++depth) {
                auto kids = nslab::procfs::children(p);
                p = kids.size() == 1 ? kids.front() : -1;
            }
            if (p > 0 && command_of(p) == "sleep")
                inner_ = p;
            else
                std::this_thread::sleep_for(10ms);
        }
    }
    ~TimeOwnedOutside() {
        if (outer_ <= 0) return;
        ::kill(-outer_, SIGKILL);
        ::kill(outer_, SIGKILL);
        ::waitpid(outer_, nullptr, 0);
    }
    pid_t pid() const { return inner_; }  // the process to join, -1 if none came

  private:
    static std::string command_of(pid_t pid) {
        try {
            std::string comm = nslab::sys::read_file("/proc/" + std::to_string(pid) + "/comm");
            while (!comm.empty() && comm.back() == '\n') comm.pop_back();
            return comm;
        } catch (const std::system_error&) {
            return "";
        }
    }
    pid_t outer_ = -1, inner_ = -1;
};

}  // namespace

TEST(Exec, JoinsEveryNamespace) {
    claim(3, "lab09 step 4 (setns)");
    auto c = start_container();
    Joined j(c, {"/bin/probe", "hold"});
    ASSERT_GT(j.joined_pid(), 0) << "lab09_exec should have one child, the command; first line: "
                                 << j.first_line();
    auto container = namespaces_of(c.container_pid());
    auto joined = namespaces_of(j.joined_pid());
    for (const char* type : {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"})
        EXPECT_EQ(joined[type], container[type])
            << "the joined process should be in the container's " << type << " namespace";
    EXPECT_NE(namespaces_of(j.exec_pid())["pid"], container["pid"])
        << "setns(CLONE_NEWPID) does not move lab09_exec itself, only its children";
}

TEST(Exec, ForkedIntoThePidNamespace) {
    claim(3, "lab09 step 6 (fork after setns)");
    auto c = start_container();
    Result r = run(9, target(c), {"/bin/probe", "pid"});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto fields = key_values(r.out);
    int pid = std::stoi(fields["pid"].empty() ? "0" : fields["pid"]);
    EXPECT_GT(pid, 1) << "inside, the command has a PID of the container's namespace:\n" << r.out;
    EXPECT_LT(pid, 100) << "a small one, not the host's:\n" << r.out;
    EXPECT_EQ(fields["ppid"], "0") << "its parent (lab09_exec) is outside the PID namespace";
    Result ps = run(9, target(c), {"ps"});
    EXPECT_HAS(ps.out, "    1 root     /bin/probe hold")
        << "busybox ps inside should list the container's PID 1:\n"
        << ps.out << ps.err;
    Joined j(c, {"/bin/probe", "hold"});
    ASSERT_GT(j.joined_pid(), 0) << "lab09_exec starts the command in the container"
                                 << note("a joined process", "none");
    auto nspid = nspid_of(j.joined_pid());
    EXPECT_EQ(nspid.size(), 2u) << "NSpid of the joined process: host PID and container PID";
}

TEST(Exec, SeesTheContainersWorld) {
    claim(3, "lab09 steps 4 and 5 (namespaces, root)");
    auto c = start_container();
    const std::string pid = std::to_string(c.container_pid());
    double before = 0;
    {
        timespec ts{};
        ::clock_gettime(CLOCK_BOOTTIME, &ts);
        before = static_cast<double>(ts.tv_sec);
    }
    Result r = run(9, target(c),
                   {"/bin/sh", "-c",
                    "probe hostname && echo file: $(cat /tmp/marker) && echo cwd: $(pwd) && "
                    "probe clocks && echo --- && cat /proc/net/dev"});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto fields = key_values(r.out);
    EXPECT_EQ(fields["hostname"], "joined") << "the container's hostname (UTS namespace)";
    EXPECT_EQ(fields["file"], "marker") << "the file the container wrote to its /tmp (its root "
                                           "and mount namespace)";
    EXPECT_EQ(fields["cwd"], "/") << "the container's working directory";
    double boottime = std::stod(fields["boottime"].empty() ? "0" : fields["boottime"]);
    EXPECT_GE(boottime, before + boottime_offset - 1)
        << "CLOCK_BOOTTIME moved by the container's offset (time namespace)";
    std::string net = r.out.substr(r.out.find("---\n") + 4);
    auto inside = interfaces_in(net);
    auto container = interfaces_in(nslab::sys::read_file("/proc/" + pid + "/net/dev"));
    EXPECT_EQ(inside, container) << "the network interfaces of the container's namespace";
}

TEST(Exec, JoinsTheCgroup) {
    claim(2, "lab09 step 3 (cgroup.procs)");
    auto c = start_container();
    Joined j(c, {"/bin/probe", "hold"});
    ASSERT_GT(j.joined_pid(), 0) << "lab09_exec starts the command in the container"
                                 << note("a joined process", "none");
    std::string container =
        nslab::sys::read_file("/proc/" + std::to_string(c.container_pid()) + "/cgroup");
    std::string ours = nslab::sys::read_file("/proc/self/cgroup");
    ASSERT_NE(container, ours) << "the container (--pids 64) should have a cgroup of its own";
    EXPECT_EQ(nslab::sys::read_file("/proc/" + std::to_string(j.joined_pid()) + "/cgroup"),
              container)
        << "the joined process should be in the container's cgroups (its limits count for it)";
}

TEST(Exec, BecomesRootOfTheContainersUserNamespace) {
    claim(2, "lab09 step 4 (user namespace: become its root)");
    // Root of this container is host uid/gid 100000; we join as host root.
    auto c = Running::start(
        container_lab,
        {"--userns", "--uid-map", "0:100000:65536", "--gid-map", "0:100000:65536", "--net", "none"},
        {"/bin/probe", "hold"});
    Result r = run(9, target(c), {"/bin/sh", "-c", "id -u; id -g; cat /proc/self/uid_map"});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    std::istringstream out(r.out);
    std::string uid, gid;
    out >> uid >> gid;
    EXPECT_EQ(uid, "0") << "inside, the joined command should be root of the user namespace:\n"
                        << r.out;
    EXPECT_EQ(gid, "0") << "the joined command is gid 0 inside" << note("gid 0", r.out);
    EXPECT_HAS(r.out, "100000") << "its uid_map should be the container's (0 -> 100000):\n"
                                << r.out;
}

TEST(Exec, JoinsANamespaceItsUserNamespaceDoesNotOwn) {
    claim(2, "lab09 step 4 (the order of the joins: who owns each namespace)");
    enter_scratch_network();  // before the fork: the container is in the grader's network
    TimeOwnedOutside c;
    ASSERT_GT(c.pid(), 0) << "the control failed: unshare(1) made no container to join";
    auto container = namespaces_of(c.pid());
    auto ours = namespaces_of(::getpid());
    ASSERT_NE(container["time"], ours["time"]) << "the control failed: no time namespace";
    ASSERT_NE(container["user"], ours["user"]) << "the control failed: no user namespace";
    Result r = run(9, {"--pid", std::to_string(c.pid())},
                   {"/bin/sh", "-c", "readlink /proc/self/ns/time /proc/self/ns/user"});
    ASSERT_EQ(r.status, 0)
        << "joining a container whose time namespace belongs to the host's user namespace, "
           "not to the container's: our host capabilities count for it only until we join "
           "the user namespace, so it must be joined first:\n"
        << r.err;
    EXPECT_HAS(r.out, "time:[" + std::to_string(container["time"]) + "]")
        << "the joined command should be in the container's time namespace:\n"
        << r.out;
    EXPECT_HAS(r.out, "user:[" + std::to_string(container["user"]) + "]")
        << "and in its user namespace:\n"
        << r.out;
}

TEST(Exec, ExitStatusAndSignalsPassThrough) {
    claim(2, "lab09 step 6 (wait, forward)");
    auto c = start_container();
    expect_status(run(9, target(c), {"/bin/probe", "exit", "7"}), 7,
                  "lab09_exec ends with the command's exit status");
    Result missing = run(9, target(c), {"/no/such/command"});
    EXPECT_EQ(missing.status, 127) << ran(missing, 127);
    Joined j(c, {"/bin/probe", "signal"});
    ASSERT_EQ(j.first_line().rfind("ready", 0), 0u)
        << "the joined probe says ready" << note("ready PID", j.first_line());
    ::kill(j.exec_pid(), SIGTERM);
    EXPECT_EQ(j.read_line(), "signal: 15") << "lab09_exec forwards SIGTERM to the command";
    EXPECT_EQ(j.finish(), 128 + SIGTERM) << "lab09_exec ends as its command did"
                                         << note(status_text(128 + SIGTERM), "another status");
}

TEST(Exec, BadTargetsGiveOneClearLine) {
    claim(2, "lab09 handout: errors");
    auto one_line = [](const Result& r, const std::string& text) {
        EXPECT_EQ(r.status, 125) << ran(r, 125);
        EXPECT_HAS(r.err, text) << "expected '" << text << "': " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    };
    one_line(run(9, {"--pid", "999999999"}, {"/bin/true"}), "no such process");
    one_line(run(9, {"--pid", std::to_string(::getpid())}, {"/bin/true"}), "not in a container");
    one_line(run(9, {"--pid-file", "/nonexistent/nslab.pid"}, {"/bin/true"}), "--pid-file");
    auto c = start_container();
    RunAs nobody(65534, 65534);
    one_line(run(9, target(c), {"/bin/true"}), "permission denied");
}

TEST(Exec, RuntimeCannotBeRewrittenFromInside) {
    claim(1, "lab09 (the runtime's own code: CVE-2019-5736, nothing to write)");
    // A copy of lab09_exec; a private rootfs holding the libraries it needs
    // (an image with a C library, as most are), in which the container makes
    // /bin/sh "#!/proc/self/exe --pid-file=/tmp/f": running /bin/sh inside
    // then runs the runtime's binary inside, blocked on the FIFO /tmp/f,
    // while the probe attacks it (probe cve-2019-5736, cmd_faults.cpp).
    TempDir bin;
    const std::string runtime = bin.path() + "/lab09_exec";
    std::filesystem::copy_file(lab_executable(9), runtime);
    ::chmod(runtime.c_str(), 0755);
    const std::string before = nslab::sys::read_file(runtime);
    TempDir rootfs(TempDir::Holding::rootfs);
    std::istringstream libraries(run_host("LD_TRACE_LOADED_OBJECTS=1 " + runtime));
    for (std::string word; libraries >> word;) {
        if (!word.starts_with("/")) continue;
        const std::filesystem::path inside = rootfs.path() + word;
        std::filesystem::create_directories(inside.parent_path());
        std::filesystem::copy_file(word, inside, std::filesystem::copy_options::overwrite_existing);
    }
    auto c = Running::start(
        container_lab, {"--rootfs", rootfs.path(), "--rootfs-writable"},
        {"/bin/busybox", "sh", "-c",
         "/bin/busybox mkfifo /tmp/f && /bin/busybox rm /bin/sh && "
         "echo '#!/proc/self/exe --pid-file=/tmp/f' > /bin/sh && /bin/busybox chmod 755 /bin/sh "
         "&& exec /bin/probe cve-2019-5736 /tmp/f"});
    const std::string joined =
        run_host(runtime + " --pid " + std::to_string(c.container_pid()) + " -- /bin/sh 2>&1");
    Result attack = c.finish(60s);
    EXPECT_HAS(attack.out, "cve: runtime inside: PID")
        << "the control failed: the runtime's binary never ran inside as /bin/sh:\n"
        << attack.out << attack.err << joined;
    EXPECT_LACKS(attack.out, "wrote")
        << "from inside, the container rewrote the binary the runtime ran from:\n"
        << attack.out;
    EXPECT_TRUE(nslab::sys::read_file(runtime) == before)  // not EXPECT_EQ: no 13 MB diff
        << "the copy of lab09_exec was changed";
}

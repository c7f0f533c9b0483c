// Lab 12's claims: lab12_oci driven as an engine drives an OCI runtime, one
// command a run, on a bundle `runc spec` wrote (its root the build's
// rootfs). The grader plays conmon: a subreaper, so the container's process
// becomes its child once `create` has exited, and it reaps it.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "nslab/cgroupfs.hpp"
#include "nslab/command.hpp"
#include "nslab/sys.hpp"

using namespace grader;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// The cgroup hierarchies' mount points (v1: one per controller; v2: one).
std::vector<std::string> cgroup_mounts() {
    std::vector<std::string> mounts;
    std::istringstream lines(nslab::sys::read_file("/proc/self/mountinfo"));
    for (std::string line; std::getline(lines, line);) {
        const size_t dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        const std::string type = line.substr(dash + 3, line.find(' ', dash + 3) - dash - 3);
        if (type != "cgroup" && type != "cgroup2") continue;
        std::istringstream fields(line);
        std::string field, mount_point;
        for (int i = 0; i < 5 && fields >> field; ++i) mount_point = field;
        mounts.push_back(mount_point);
    }
    return mounts;
}

// One bundle and one state root of its own, removed at the end with
// whatever container is left (delete --force).
class Bundle {
  public:
    explicit Bundle(const std::vector<std::string>& args) {
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // as conmon: the container becomes ours
        json config;
        std::string why = "no runc";
        try {
            nslab::command::Spec spec{.argv = {"runc", "spec", "--bundle", dir_.path()},
                                      .out = nslab::command::Stream::pipe(),
                                      .err = nslab::command::Stream::pipe()};
            nslab::command::Output made = nslab::command::run(spec);
            why = "runc spec: " + made.err;
            if (made.status == 0)
                config = json::parse(nslab::sys::read_file(dir_.path() + "/config.json"));
        } catch (const std::exception& e) {
            why += std::string(": ") + e.what();
        }
        if (config.is_null())
            ADD_FAILURE() << note(
                "runc spec writes a bundle's config.json (runc is one of the "
                "packages ./nslab installs)",
                why);
        config["process"]["terminal"] = false;
        config["process"]["args"] = args;
        config["root"]["path"] = rootfs_dir();
        config_ = config;
    }
    ~Bundle() {
        oci({"delete", "--force"}, {id});
        reap();
    }
    json& config() { return config_; }

    // lab12_oci --root ROOT COMMAND... -- ARGS, run to its end.
    Result oci(const std::vector<std::string>& command, const std::vector<std::string>& args) {
        std::vector<std::string> options{"--root", root()};
        options.insert(options.end(), command.begin(), command.end());
        return run(lab(), options, args, 20s);
    }

    // create: its output and the container's go to files, since the
    // container keeps them open after create has exited.
    Result create() {
        std::ofstream(dir_.path() + "/config.json", std::ios::trunc) << config_.dump();
        nslab::Fd out = nslab::sys::open(dir_.path() + "/out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        nslab::Fd err = nslab::sys::open(dir_.path() + "/err", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::vector<std::string> argv{lab_executable(lab()), "--root", root(), "create", "--bundle",
                                      dir_.path(),           "--",     id};
        Result r;
        try {
            nslab::command::Child child =
                nslab::command::start({.argv = argv,
                                       .in = nslab::command::Stream::null(),
                                       .out = nslab::command::Stream::to(out.get()),
                                       .err = nslab::command::Stream::to(err.get()),
                                       .own_process_group = true});
            nslab::command::Ended ended =
                nslab::command::wait_until(child.pid, std::chrono::steady_clock::now() + 20s);
            r.status = nslab::exit_status_of(ended.status);
            r.timed_out = ended.timed_out;
        } catch (const nslab::command::NotStarted& e) {
            r.status = e.status();
        }
        r.err = nslab::sys::read_file(dir_.path() + "/err");
        return r;
    }
    // What the container wrote so far.
    std::string output() { return nslab::sys::read_file(dir_.path() + "/out"); }
    // Waits until its output holds `piece` (at most 10 s).
    bool output_has(const std::string& piece) {
        for (int i = 0; i < 100; ++i) {
            if (output().find(piece) != std::string::npos) return true;
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }
    std::string status() {
        Result r = oci({"state"}, {id});
        json state = json::parse(r.out, nullptr, false);
        return state.is_object() ? state.value("status", "?") : "? (" + r.err + ")";
    }
    pid_t pid() {
        json state = json::parse(oci({"state"}, {id}).out, nullptr, false);
        return state.is_object() ? state.value("pid", 0) : 0;
    }
    // As conmon: waits for the container's process; its exit status (-1: none in 10 s).
    int wait_exit(pid_t pid) {
        for (int i = 0; i < 100; ++i) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) return nslab::exit_status_of(status);
            std::this_thread::sleep_for(100ms);
        }
        return -1;
    }
    std::string state_dir() const { return root() + "/" + id; }
    std::string root() const { return dir_.path() + "/state"; }

    const std::string id = "grader-oci";

  private:
    void reap() {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {}
    }
    TempDir dir_;
    json config_;
};

const std::vector<std::string> waits = {"/bin/sh", "-c",
                                        "echo started; trap 'echo got TERM; exit 3' TERM; "
                                        "while :; do sleep 0.1; done"};

}  // namespace

TEST(Oci, CreateStopsBeforeExecAndStartLetsItRun) {
    claim(3, "lab12 steps 1 and 2 (the exec FIFO: create waits, start releases)");
    Bundle b(waits);
    Result created = b.create();
    ASSERT_EQ(created.status, 0) << ran(created, 0);
    const pid_t pid = b.pid();
    ASSERT_GT(pid, 0) << note("state gives the container's PID after create", "pid 0");
    EXPECT_EQ(::kill(pid, 0), 0) << note("the container's process alive after create exited",
                                         "PID " + std::to_string(pid) + " is gone");
    std::this_thread::sleep_for(300ms);
    EXPECT_LACKS(b.output(), "started") << "the command must not run before start";
    Result started = b.oci({"start"}, {b.id});
    ASSERT_EQ(started.status, 0) << ran(started, 0);
    EXPECT_TRUE(b.output_has("started"))
        << note("the command runs once start returned", "its output: '" + b.output() + "'");
    Result again = b.oci({"start"}, {b.id});
    EXPECT_NE(again.status, 0) << note("a second start refused", "exit status 0");
}

TEST(Oci, StateGoesCreatedRunningStopped) {
    claim(2, "lab12 step 3 (status from /proc)");
    Bundle b(waits);
    Result created = b.create();
    ASSERT_EQ(created.status, 0) << ran(created, 0);
    EXPECT_EQ(b.status(), "created") << note("status created before start", b.status());
    const pid_t pid = b.pid();
    Result started = b.oci({"start"}, {b.id});
    ASSERT_EQ(started.status, 0) << ran(started, 0);
    EXPECT_EQ(b.status(), "running") << note("status running after start", b.status());
    ASSERT_GT(pid, 0) << note("state gives the container's PID", "pid 0");
    ::kill(pid, SIGKILL);
    EXPECT_EQ(b.wait_exit(pid), 128 + SIGKILL) << "the grader, its subreaper, reaps it";
    EXPECT_EQ(b.status(), "stopped") << note("status stopped once it has ended", b.status());
}

TEST(Oci, KillReachesTheContainer) {
    claim(2, "lab12 step 4 (kill: the container's process, by pidfd)");
    Bundle b(waits);
    Result created = b.create();
    ASSERT_EQ(created.status, 0) << ran(created, 0);
    const pid_t pid = b.pid();
    Result started = b.oci({"start"}, {b.id});
    ASSERT_EQ(started.status, 0) << ran(started, 0);
    ASSERT_TRUE(b.output_has("started"))
        << note("the command runs once start returned", "its output: '" + b.output() + "'");
    Result killed = b.oci({"kill"}, {b.id, "TERM"});
    EXPECT_EQ(killed.status, 0) << ran(killed, 0);
    EXPECT_TRUE(b.output_has("got TERM"))
        << note("the container's trap ran (got TERM)", "its output: '" + b.output() + "'");
    EXPECT_EQ(b.wait_exit(pid), 3) << "the container exits 3 from its TERM trap";
    Result stopped = b.oci({"kill"}, {b.id, "KILL"});
    EXPECT_NE(stopped.status, 0) << note("kill of a stopped container refused", "exit status 0");
}

TEST(Oci, DeleteRemovesTheStateAndTheCgroup) {
    claim(2, "lab12 step 5 (delete: refuse a running one, kill with --force, remove the cgroup)");
    Bundle b(waits);
    Result created = b.create();
    ASSERT_EQ(created.status, 0) << ran(created, 0);
    Result started = b.oci({"start"}, {b.id});
    ASSERT_EQ(started.status, 0) << ran(started, 0);
    const json saved =
        json::parse(nslab::sys::read_file(b.state_dir() + "/state.json"), nullptr, false);
    const std::string cgroup = saved.is_object() ? saved.value("cgroup", "") : "";
    std::vector<std::string> made;
    for (const auto& mount : cgroup_mounts())
        if (!cgroup.empty() && nslab::sys::exists(mount + cgroup)) made.push_back(mount + cgroup);
    EXPECT_FALSE(made.empty()) << note("the container's cgroup exists while it runs",
                                       "none at '" + cgroup + "'");
    // `nslab cleanup` takes a cgroup whose owner is gone for a killed
    // runtime's: the runtime that made this one has exited, by design.
    nslab::cgroupfs::cleanup_stale();
    EXPECT_EQ(b.status(), "running") << note("running after nslab cleanup's sweep", b.status());
    for (const auto& dir : made)
        EXPECT_TRUE(nslab::sys::exists(dir))
            << note("its cgroup kept by nslab cleanup", dir + " gone");
    Result refused = b.oci({"delete"}, {b.id});
    EXPECT_NE(refused.status, 0) << note("delete of a running container refused", "exit status 0");
    EXPECT_EQ(b.status(), "running") << "a refused delete leaves it running";
    Result deleted = b.oci({"delete", "--force"}, {b.id});
    EXPECT_EQ(deleted.status, 0) << ran(deleted, 0);
    EXPECT_FALSE(nslab::sys::exists(b.state_dir()))
        << note("no state directory after delete", b.state_dir() + " is there");
    for (const auto& dir : made)
        EXPECT_FALSE(nslab::sys::exists(dir)) << note("no cgroup after delete", dir + " is there");
}

TEST(Oci, AFieldNslabCannotHonourIsRefusedByName) {
    claim(1, "lab12 handout: config.json");
    Bundle b({"/bin/true"});
    b.config()["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    Result r = b.create();
    EXPECT_EQ(r.status, 1) << ran(r, 1);
    EXPECT_HAS(r.err, "linux.sysctl") << says(r, "linux.sysctl");
    EXPECT_FALSE(nslab::sys::exists(b.state_dir()))
        << note("no state directory after a refused create", b.state_dir() + " is there");
    // The same bundle without the field is taken: the refusal was the field's.
    b.config()["linux"].erase("sysctl");
    Result taken = b.create();
    EXPECT_EQ(taken.status, 0) << ran(taken, 0);
    EXPECT_EQ(b.status(), "created")
        << note("the bundle without linux.sysctl is created", b.status());
}

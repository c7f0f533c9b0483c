// Lab 06's claims: the container's own cgroup, its limits, the cgroup
// namespace, and the cleanup. They hold on cgroup v2 (the students' VMs,
// tests/vm --mode unified) and v1 (hybrid here, tests/vm --mode legacy);
// each claim reads the files of the mode it finds.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include "harness.hpp"
#include "nslab/cgroupfs.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

using namespace grader;
namespace cg = nslab::cgroupfs;

namespace {

bool unified() {
    return cg::host().mode == cg::Mode::unified;
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

std::string file_text(const std::string& path) {
    return nslab::sys::exists(path) ? trimmed(nslab::sys::read_file(path)) : "(no such file)";
}

// The container's cgroup directories as the host sees them, from
// /proc/PID/cgroup: controller -> directory ("" is the v2 tree).
std::map<std::string, std::string> cgroup_dirs(pid_t pid) {
    std::map<std::string, std::string> dirs;
    auto text = nslab::sys::read_file("/proc/" + std::to_string(pid) + "/cgroup");
    for (const cg::ProcCgroupLine& line : cg::parse_proc_cgroup(text)) {
        if (unified() && line.id == 0) dirs[""] = std::string(cg::mount_point) + line.path;
        for (const std::string& controller : line.controllers)
            if (cg::host().v1_dirs.count(controller))
                dirs[controller] = cg::host().v1_dirs.at(controller) + line.path;
    }
    return dirs;
}

// The directory that holds `controller`'s files for the container.
std::string dir_for(pid_t pid, const std::string& controller) {
    auto dirs = cgroup_dirs(pid);
    return unified() ? dirs[""] : dirs[controller];
}

std::string describe(const std::map<std::string, std::string>& dirs) {
    std::string text;
    for (const auto& [controller, dir] : dirs)
        text += (controller.empty() ? "v2" : controller) + "=" + dir + " ";
    return text;
}

}  // namespace

TEST(Cgroup, HostSeesTheContainersOwnCgroup) {
    claim(3, "lab06 steps 1 and 2 (mkdir, born inside)");
    auto c = Running::start(lab(), {}, probe({"hold"}));
    auto dirs = cgroup_dirs(c.container_pid());
    auto runtime = cgroup_dirs(c.runtime_pid());
    std::vector<std::string> expected =
        unified() ? std::vector<std::string>{""} : std::vector<std::string>{"memory", "pids"};
    for (const std::string& controller : expected) {
        SCOPED_TRACE(controller.empty() ? "cgroup v2" : controller + " hierarchy");
        const std::string& dir = dirs[controller];
        EXPECT_HAS(dir, "/nslab/")
            << "expected /proc/" << c.container_pid() << "/cgroup to name a cgroup under nslab/, "
            << "observed " << dir << ": the child is not in its own cgroup";
        EXPECT_NE(dir, runtime[controller]) << "the runtime itself stays out of the container's "
                                               "cgroup (or it could never be removed)";
        ASSERT_TRUE(nslab::sys::exists(dir))
            << "the container's cgroup exists" << note(dir + " exists", "no such directory");
        auto members = cg::procs(dir);
        EXPECT_NE(std::find(members.begin(), members.end(), c.container_pid()), members.end())
            << dir << "/cgroup.procs should list the container's PID " << c.container_pid();
    }
}

TEST(Cgroup, LimitFilesHoldTheRequestedValues) {
    claim(3, "lab06 step 1 (limits)");
    auto c = Running::start(lab(), {"--memory", "64M", "--pids", "20", "--cpus", "0.5"},
                            probe({"hold"}));
    pid_t pid = c.container_pid();
    auto expect_file = [&](const std::string& controller, const std::string& file,
                           const std::string& value, bool optional = false) {
        std::string path = dir_for(pid, controller) + "/" + file;
        if (optional && !nslab::sys::exists(path)) return;
        EXPECT_EQ(file_text(path), value) << "expected " << path << " to hold " << value;
    };
    if (unified()) {
        expect_file("memory", "memory.max", "67108864");
        expect_file("memory", "memory.swap.max", "0", true);
        expect_file("pids", "pids.max", "20");
        expect_file("cpu", "cpu.max", "50000 100000");
    } else {
        expect_file("memory", "memory.limit_in_bytes", "67108864");
        expect_file("memory", "memory.memsw.limit_in_bytes", "67108864", true);
        expect_file("pids", "pids.max", "20");
        expect_file("cpu", "cpu.cfs_period_us", "100000");
        expect_file("cpu", "cpu.cfs_quota_us", "50000");
    }
}

TEST(Cgroup, ContainerSeesItsLimitsReadOnly) {
    claim(2, "lab06 step 3 (cgroupfs read-only inside)");
    const std::string pids_max =
        unified() ? "/sys/fs/cgroup/pids.max" : "/sys/fs/cgroup/pids/pids.max";
    Result r = run(
        lab(), {"--pids", "20"},
        probe({"cat", pids_max, ",", "cgwrite", pids_max, "5", ",", "statfs", "/sys/fs/cgroup"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_EQ(r.out.rfind("20\n", 0), 0u)
        << "inside, " << pids_max << " should show the container's own limit, 20; observed:\n"
        << r.out;
    EXPECT_HAS(r.out, "write: Read-only file system")
        << "the container must not change its own limits: mount the cgroupfs read-only\n"
        << r.out;
    EXPECT_HAS(r.out, unified() ? "f_type: 0x63677270" : "f_type: 0x1021994")
        << "expected " << (unified() ? "cgroup2" : "a tmpfs of v1 hierarchies")
        << " at /sys/fs/cgroup inside\n"
        << r.out;
}

TEST(Cgroup, ForkBombStopsAtPidsLimit) {
    claim(4, "lab06 steps 1 and 2 (pids.max, inside before it can fork)");
    auto c = Running::start(lab(), {"--pids", "16"}, probe({"forkbomb", "200", "10"}));
    const std::string forked_line = c.first_line();
    const std::string error_line = c.read_line();
    int forked = std::stoi(key_values(forked_line)["forked"]);
    EXPECT_LE(forked, 15) << "with --pids 16 the probe (1) and at most 15 children fit; it forked "
                          << forked << ": some process was not in the cgroup when it forked";
    EXPECT_GE(forked, 5) << "the probe should have forked some children: " << error_line;
    EXPECT_HAS(error_line, "Resource temporarily unavailable")
        << "fork(2) should fail with EAGAIN at pids.max: " << error_line;
    // Every process of the container, the early children included, is inside.
    pid_t pid = c.container_pid();
    auto own = cgroup_dirs(pid);
    for (pid_t child : nslab::procfs::children(pid))
        EXPECT_EQ(describe(cgroup_dirs(child)), describe(own))
            << "the container's process " << child << " is outside the container's cgroup";
    std::string dir = dir_for(pid, "pids");
    EXPECT_EQ(file_text(dir + "/pids.current"), std::to_string(forked + 1))
        << "pids.current counts every process of the container"
        << note(dir + "/pids.current: " + std::to_string(forked + 1),
                dir + "/pids.current: " + file_text(dir + "/pids.current"));
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(run_host("echo alive"), "alive\n") << "the host can still start processes";
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5))
        << "the host stays responsive";
    expect_ends(c, 0, "the container ends with its command");
}

TEST(Cgroup, MemoryHogIsKilledAndReported) {
    claim(4, "lab06 step 4 (OOM kill reported)");
    Result r = run(lab(), {"--memory", "64M"}, probe({"memhog", "1024"}), std::chrono::seconds(60));
    EXPECT_EQ(r.status, 137) << "the OOM killer sends SIGKILL: expected exit status 128+9\n"
                             << r.out << r.err;
    EXPECT_LACKS(r.out, "survived")
        << "the hog touched 1 GiB under a 64 MiB limit (swapped, or no limit?)\n"
        << r.out;
    EXPECT_HAS(r.err, "killed: out of memory, limit 64 MiB")
        << "expected the runtime to report the OOM kill, observed stderr: " << r.err;
}

TEST(Cgroup, CpuQuotaThrottlesBusyLoop) {
    claim(3, "lab06 step 1 (cpu quota)");
    auto c = Running::start(lab(), {"--cpus", "0.2"}, probe({"busy", "2", ",", "hold"}));
    double wall = std::stod(key_values(c.first_line())["wall_ms"]);
    double cpu = std::stod(key_values(c.read_line())["cpu_ms"]);
    // Generous: the machine is shared, and a quota is enforced per 100 ms period.
    double share = cpu / wall;
    EXPECT_LT(share, 0.35) << "with --cpus 0.2 a busy loop should get about 20% of one CPU; it got "
                           << cpu << " ms in " << wall << " ms";
    EXPECT_GT(share, 0.05) << "it got almost no CPU: " << cpu << " ms in " << wall << " ms";
    std::string stat_file = dir_for(c.container_pid(), "cpu") + "/cpu.stat";
    auto stat = cg::parse_flat_keyed(nslab::sys::read_file(stat_file));
    EXPECT_GT(stat["nr_throttled"], 0u) << stat_file << " should count throttled periods";
}

TEST(Cgroup, NamespaceRootIsTheContainersCgroup) {
    claim(3, "lab06 step 3 (cgroup namespace once inside)");
    auto c = Running::start(lab(), {}, probe({"cgroup", ",", "ns", ",", "hold"}));
    std::vector<std::string> lines{c.first_line()};
    for (std::string line; (line = c.read_line()).rfind("ready", 0) != 0 && !line.empty();)
        lines.push_back(line);
    std::string seen;
    for (const auto& line : lines) seen += line + "\n";
    int cgroup_lines = 0;
    for (const auto& line : lines) {
        if (line.rfind("self_cgroup: ", 0) != 0) continue;
        ++cgroup_lines;
        if (unified())
            EXPECT_EQ(line, "self_cgroup: 0::/")
                << "inside, /proc/self/cgroup should show the root";
        else
            EXPECT_TRUE(line.size() >= 2 && line.substr(line.size() - 2) == ":/")
                << "inside, every hierarchy should show the namespace root '/': " << line;
    }
    EXPECT_GT(cgroup_lines, 0) << "the probe prints its cgroup lines"
                               << note("cgroup: lines from the probe", seen);
    auto inside = key_values(seen);
    EXPECT_NE(inside["cgroup"], std::to_string(namespaces_of(::getpid())["cgroup"]))
        << "expected a new cgroup namespace inside";
    EXPECT_NE(namespaces_of(c.container_pid())["cgroup"], namespaces_of(c.runtime_pid())["cgroup"])
        << "the host sees the container in another cgroup namespace than the runtime";
}

TEST(Cgroup, CgroupRemovedAfterExit) {
    claim(3, "lab06 step 4 (remove)");
    auto c =
        Running::start(lab(), {"--pids", "10", "--memory", "64M"}, probe({"forkbomb", "3", "5"}));
    auto dirs = cgroup_dirs(c.container_pid());
    ASSERT_FALSE(dirs.empty()) << "the container has its own cgroup"
                               << note("a cgroup directory for the container", "none");
    Result r = c.finish();
    EXPECT_EQ(r.status, 0) << ran(r, 0);
    for (const auto& [controller, dir] : dirs)
        EXPECT_FALSE(nslab::sys::exists(dir))
            << dir << " is left behind after the container exited";
}

TEST(Cgroup, StaleCgroupRemovedByCleanup) {
    claim(2, "lab06 handout: nslab cleanup");
    auto alive = Running::start(lab(), {"--pids", "10"}, probe({"hold"}));
    auto killed = Running::start(lab(), {"--pids", "10"}, probe({"hold"}));
    auto alive_dirs = cgroup_dirs(alive.container_pid());
    auto killed_dirs = cgroup_dirs(killed.container_pid());
    killed.signal_runtime(SIGKILL);
    killed.finish();
    // The runtime had no chance to clean up; PR_SET_PDEATHSIG ends the container.
    std::vector<std::string> errors;
    auto removed = nslab::cgroupfs::cleanup_stale(&errors);
    EXPECT_TRUE(errors.empty()) << "cleanup removes every stale cgroup"
                                << note("no error", testing::PrintToString(errors));
    for (const auto& [controller, dir] : killed_dirs)
        EXPECT_FALSE(nslab::sys::exists(dir))
            << dir << " (its runtime was killed) should be gone after cgroupfs::cleanup_stale()";
    for (const auto& [controller, dir] : alive_dirs)
        EXPECT_TRUE(nslab::sys::exists(dir))
            << dir << " belongs to a running container: cleanup must leave it";
}

TEST(Cgroup, BadLimitsGiveOneClearLine) {
    claim(2, "lab06 handout: bad values");
    const std::string too_many = std::to_string(::sysconf(_SC_NPROCESSORS_ONLN) + 1);
    for (const auto& [option, value] : {std::pair<std::string, std::string>{"--pids", "0"},
                                        {"--memory", "-1M"},
                                        {"--memory", "12Q"},
                                        {"--cpus", "0"},
                                        {"--cpus", "-0.5"},
                                        {"--cpus", too_many}}) {
        Result r = run(lab(), {option + "=" + value}, {"/bin/true"});
        EXPECT_EQ(r.status, 2) << option << " " << value << ": " << r.err;
        std::string first = r.err.substr(0, r.err.find('\n'));
        EXPECT_HAS(first, option) << "the first line should name " << option << ": " << r.err;
    }
}

// Must 6 of lab 12 (issue 24): lab12_oci leaves nothing, whoever is
// SIGKILLed when. Unlike labs 01-11 (leaks.cpp) its container outlives the
// runtime by design: `create` exits with it set up and waiting, its caller
// (conmon) reaps it, and each later command is a run of its own. So its
// endings are its own, each run on the state root /run/nslab-oci (a tmpfs
// of the scratch host, so `nslab cleanup` sweeps only ours):
//   normal        create, start, the command exits 3; state stopped; delete
//   KILL-create   SIGKILL of create at a random moment of its set-up, then
//                 `delete --force ID` or `nslab cleanup` (the seed's coin)
//   KILL-conmon-created, KILL-conmon-running
//                 SIGKILL of its caller, a subreaper playing conmon, after
//                 create (or start): the container runs on (state created,
//                 running), and `nslab cleanup` keeps it; then `delete
//                 --force`, or its process dies, state says stopped and a
//                 plain `delete` (or `nslab cleanup`) removes it
//   KILL-delete   SIGKILL of `delete --force` at a random moment, then
//                 `delete --force` again
//   two-creates   a second create of the id fails (1, one line) and leaves
//                 the first's state, process and cgroup as they were
// After each, the host must be as before (settle: mounts, links, cgroups,
// hand-over records, processes...) and the state root empty.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "faults.hpp"
#include "nslab/cgroupfs.hpp"
#include "nslab/command.hpp"
#include "nslab/net_host.hpp"
#include "nslab/oci_state.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace faults {

namespace {

namespace sys = nslab::sys;
namespace command = nslab::command;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string root = nslab::oci_state::default_root;

enum class Ending {
    normal,
    kill_create,
    kill_conmon_created,
    kill_conmon_running,
    kill_delete,
    two_creates
};
constexpr Ending endings[] = {Ending::normal,
                              Ending::kill_create,
                              Ending::kill_conmon_created,
                              Ending::kill_conmon_running,
                              Ending::kill_delete,
                              Ending::two_creates};

const char* name_of(Ending e) {
    switch (e) {
        case Ending::normal:
            return "normal";
        case Ending::kill_create:
            return "KILL-create";
        case Ending::kill_conmon_created:
            return "KILL-conmon-created";
        case Ending::kill_conmon_running:
            return "KILL-conmon-running";
        case Ending::kill_delete:
            return "KILL-delete";
        case Ending::two_creates:
            return "two-creates";
    }
    return "?";
}

// A bundle of the build's rootfs running `args`; half the time with a
// user namespace and a wide map (the container's euid changes: its
// parent-death signal is cleared and set again), half with a pids limit.
std::string bundle(const std::vector<std::string>& args, std::mt19937_64& rng) {
    auto coin = [&](double p) { return std::bernoulli_distribution(p)(rng); };
    const std::string dir = fixtures_dir() + "/oci-bundle";
    sys::mkdir_p(dir, 0755);
    nlohmann::json namespaces = nlohmann::json::array();
    for (const char* type : {"pid", "mount", "network", "uts", "ipc", "cgroup"})
        namespaces.push_back({{"type", type}});
    nlohmann::json linux = {{"namespaces", namespaces}};
    if (coin(0.5)) {
        linux["namespaces"].push_back({{"type", "user"}});
        const nlohmann::json map = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
        linux["uidMappings"] = map;
        linux["gidMappings"] = map;
    }
    if (coin(0.5)) linux["resources"] = {{"pids", {{"limit", 64}}}};
    const nlohmann::json config = {
        {"ociVersion", "1.0.2"},
        {"root", {{"path", (std::filesystem::path(bin_dir).parent_path() / "rootfs").string()}}},
        {"process", {{"args", args}, {"cwd", "/"}, {"env", {"PATH=/bin:/usr/bin"}}}},
        {"linux", linux}};
    std::ofstream(dir + "/config.json", std::ios::trunc) << config.dump();
    return dir;
}

// One run of lab12_oci --root ROOT ARGS..., stdin /dev/null, stdout and
// stderr memfds (a container that outlives create holds them open).
class Oci {
  public:
    explicit Oci(const std::vector<std::string>& args)
        : out_(memfd("oci-stdout")), err_(memfd("oci-stderr")) {
        std::vector<std::string> argv{bin_dir + "/lab12_oci", "--root", root};
        argv.insert(argv.end(), args.begin(), args.end());
        try {
            pid_ = command::start({.argv = argv,
                                   .in = command::Stream::null(),
                                   .out = command::Stream::to(out_.get()),
                                   .err = command::Stream::to(err_.get()),
                                   .own_process_group = true})
                       .pid;
        } catch (const command::NotStarted& e) {
            status_ = e.status();
        }
    }
    Oci(const Oci&) = delete;
    Oci& operator=(const Oci&) = delete;
    ~Oci() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    pid_t pid() const { return pid_; }
    void kill() const {
        if (pid_ > 0) ::kill(pid_, SIGKILL);
    }
    // Its exit status (128+n for signal n; -1 when not ended in 20 s: killed).
    int wait() {
        if (pid_ <= 0) return status_;
        const auto ended = command::wait_until(pid_, Clock::now() + 20s);
        pid_ = -1;
        return status_ = ended.timed_out ? -1 : nslab::exit_status_of(ended.status);
    }
    std::string out() const { return text_of(out_); }
    std::string err() const { return text_of(err_); }

  private:
    static nslab::Fd memfd(const char* name) {
        return nslab::Fd(sys::check(::memfd_create(name, MFD_CLOEXEC), "memfd_create"));
    }
    nslab::Fd out_, err_;
    pid_t pid_ = -1;
    int status_ = -1;
};

struct Ran {
    int status;
    std::string out, err;
};
Ran oci(const std::vector<std::string>& args) {
    Oci run(args);
    const int status = run.wait();
    return {status, run.out(), run.err()};
}

// `state ID`'s status, or "none (STDERR)".
std::string status_of(const std::string& id) {
    const Ran r = oci({"state", id});
    const nlohmann::json state = nlohmann::json::parse(r.out, nullptr, false);
    if (!state.is_object()) return "none (" + r.err.substr(0, r.err.find('\n')) + ")";
    return state.value("status", "?") + " pid " + std::to_string(state.value("pid", 0));
}

// The container's state.json as create wrote it (text "" when there is none).
struct Saved {
    std::string text, cgroup;
    pid_t pid = 0;
    std::uint64_t start_time = 0;
};
Saved saved(const std::string& id) {
    Saved s;
    try {
        s.text = sys::read_file(root + "/" + id + "/state.json");
    } catch (const std::system_error&) {
        return s;
    }
    const nlohmann::json state = nlohmann::json::parse(s.text, nullptr, false);
    if (!state.is_object()) return s;
    s.cgroup = state.value("cgroup", "");
    s.pid = state.value("pid", 0);
    s.start_time = state.value("start_time", std::uint64_t{0});
    return s;
}

// The runtime that named a cgroup "/nslab/X-PID": PID (0: none).
pid_t runtime_of(const std::string& cgroup) {
    return nslab::cgroupfs::owner_of(cgroup.substr(cgroup.rfind('/') + 1)).value_or(0);
}

// Plays conmon: a subreaper that runs create (and start), reports their
// exit statuses on a pipe, and waits to be SIGKILLed. Its container is
// ours once it has gone (we are the subreaper above it).
struct Conmon {
    pid_t pid = -1;
    int create = -1, start = -1;
};
Conmon play_conmon(const std::string& bundle_dir, const std::string& id, bool start) {
    auto [reader, writer] = sys::pipe2(O_CLOEXEC);
    Conmon conmon;
    conmon.pid = sys::fork();
    if (conmon.pid == 0) {
        reader.reset();
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        unsigned char statuses[2] = {255, 255};
        statuses[0] =
            static_cast<unsigned char>(oci({"create", "--bundle", bundle_dir, id}).status);
        if (statuses[0] == 0 && start)
            statuses[1] = static_cast<unsigned char>(oci({"start", id}).status);
        if (::write(writer.get(), statuses, 2) != 2) ::_exit(1);
        for (;;) ::pause();
    }
    writer.reset();
    pollfd ready{reader.get(), POLLIN, 0};
    unsigned char statuses[2] = {255, 255};
    if (::poll(&ready, 1, 30000) == 1 && ::read(reader.get(), statuses, 2) == 2) {
        conmon.create = statuses[0];
        conmon.start = start ? statuses[1] : 0;
    }
    return conmon;
}

// The container's cgroup directories, one per hierarchy that has it.
std::vector<std::string> cgroup_dirs(const std::string& path) {
    std::vector<std::string> dirs;
    if (path.empty()) return dirs;
    for (const std::string& hierarchy : nslab::cgroupfs::host().hierarchies())
        if (sys::exists(hierarchy + path)) dirs.push_back(hierarchy + path);
    return dirs;
}

// Whether the container's process runs (its PID, with the start time saved).
bool runs(const Saved& state) {
    return state.pid > 0 && nslab::net::start_time_of(state.pid) == state.start_time;
}

// `nslab cleanup`, its output kept.
Ran cleanup() {
    try {
        const command::Output o = command::run({.argv = {bin_dir + "/nslab-tool", "cleanup"},
                                                .in = command::Stream::null(),
                                                .out = command::Stream::pipe(),
                                                .err = command::Stream::pipe()});
        return {nslab::exit_status_of(o.status), o.out, o.err};
    } catch (const command::NotStarted& e) {
        return {e.status(), "", e.what()};
    }
}

struct Counts {
    int runs = 0, bad = 0;
};

}  // namespace

int oci_faults(std::uint64_t seed, int rounds) {
    std::mt19937_64 rng(seed);
    std::printf(
        "oci: seed %llu (--seed %llu repeats this run), %d rounds of lab 12 x %zu endings\n",
        static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed), rounds,
        std::size(endings));
    std::fflush(stdout);
    const auto started = Clock::now();
    std::set<pid_t> ours;
    std::map<Ending, Counts> table;
    double create_ms = 0, delete_ms = 0;  // how long each takes, as last seen
    int runs_done = 0, leaked = 0, killed_creates = 0, left_dirs = 0, left_processes = 0;
    auto ms_since = [](Clock::time_point t0) {
        return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    };

    for (int round = 0; round < rounds; ++round) {
        for (Ending e : endings) {
            const int run = ++runs_done;
            const std::string id =
                "faults-" + std::to_string(::getpid()) + "-" + std::to_string(run);
            const bool waits = e != Ending::normal;
            const std::string dir =
                bundle(waits ? std::vector<std::string>{"/bin/sleep", "60"}
                             : std::vector<std::string>{"/bin/sh", "-c", "exit 3"},
                       rng);
            const std::vector<std::string> create = {"create", "--bundle", dir, id};
            auto coin = [&] { return std::bernoulli_distribution(0.5)(rng); };
            std::vector<std::string> wrong;  // what the run saw that it should not have
            auto expect = [&](bool ok, const std::string& what) {
                if (!ok) wrong.push_back(what);
            };
            auto succeeded = [&](const Ran& r, const std::string& what) {
                expect(r.status == 0, what + ": exit " + std::to_string(r.status) + ": " + r.err);
            };
            std::string how;  // the run's random choices, for its report

            const HostState before = snapshot();
            switch (e) {
                case Ending::normal: {
                    const auto t0 = Clock::now();
                    const Ran created = oci(create);
                    create_ms = ms_since(t0);
                    succeeded(created, "create");
                    const Saved state = saved(id);
                    const pid_t pid = state.pid;
                    ours.insert(runtime_of(state.cgroup));
                    const Ran start = oci({"start", id});
                    succeeded(start, "start");
                    int status = -1;
                    if (pid > 0) status = nslab::exit_status_of(sys::waitpid(pid, 0));
                    expect(status == 3,
                           "the command's exit status " + std::to_string(status) + ", not 3");
                    const std::string now = status_of(id);
                    expect(now.starts_with("stopped"), "state after it exited: " + now);
                    const Ran removed = oci({"delete", id});
                    succeeded(removed, "delete");
                    break;
                }
                case Ending::kill_create: {
                    const double limit = 1.2 * (create_ms > 0 ? create_ms : 60.0);
                    const double at = std::uniform_real_distribution<double>(0, limit)(rng);
                    const bool sweep = coin();
                    int status = -1;
                    {
                        const auto t0 = Clock::now();
                        Oci killed(create);
                        ours.insert(killed.pid());
                        std::this_thread::sleep_until(
                            t0 + std::chrono::duration<double, std::milli>(at));
                        killed.kill();
                        status = killed.wait();
                    }
                    char text[96];
                    std::snprintf(text, sizeof text, "killed at %.1f ms of ~%.1f ms%s", at,
                                  limit / 1.2, status == 0 ? " (after it finished)" : "");
                    how = text;
                    ++killed_creates;
                    if (status != 0 && sys::exists(root + "/" + id)) {
                        ++left_dirs;
                        how += ", left its state directory";
                    }
                    std::this_thread::sleep_for(
                        20ms);  // a container its parent-death signal kills is gone
                    while (::waitpid(-1, nullptr, WNOHANG) > 0) {}
                    for (pid_t child : nslab::procfs::children(::getpid()))
                        if (status != 0 && nslab::net::start_time_of(child)) {
                            ++left_processes;
                            how += " and a live container process";
                            break;
                        }
                    if (status == 0 || !sweep) {
                        how += ", then delete --force";
                        const Ran removed = oci({"delete", "--force", id});
                        succeeded(removed, "delete --force");
                    } else {
                        how += ", then nslab cleanup";
                        const Ran cleaned = cleanup();
                        succeeded(cleaned, "nslab cleanup");
                    }
                    const Ran gone = oci({"state", id});
                    expect(gone.status == 1 && gone.err.find("does not exist") != std::string::npos,
                           "state after it: exit " + std::to_string(gone.status) + ": " + gone.err);
                    break;
                }
                case Ending::kill_conmon_created:
                case Ending::kill_conmon_running: {
                    const bool start = e == Ending::kill_conmon_running;
                    const Conmon conmon = play_conmon(dir, id, start);
                    expect(conmon.create == 0 && conmon.start == 0,
                           "conmon's create and start: exit " + std::to_string(conmon.create) +
                               ", " + std::to_string(conmon.start));
                    ::kill(conmon.pid, SIGKILL);
                    sys::waitpid(conmon.pid, 0);
                    const Saved state = saved(id);
                    const std::string cgroup = state.cgroup;
                    ours.insert(runtime_of(cgroup));
                    const std::string now = status_of(id);
                    expect(now.starts_with(start ? "running" : "created") && runs(state),
                           "state after conmon's SIGKILL: " + now);
                    // `nslab cleanup` keeps a live container, and says so.
                    const Ran cleaned = cleanup();
                    const std::string kept = "kept lab 12 container " + root + "/" + id;
                    expect(cleaned.status == 0 && cleaned.out.find(kept) != std::string::npos,
                           "nslab cleanup: exit " + std::to_string(cleaned.status) + ", no '" +
                               kept + "' line: " + cleaned.out + cleaned.err);
                    const std::string still = status_of(id);
                    expect(still == now, "state after nslab cleanup: " + still);
                    if (coin()) {
                        how = "then delete --force";
                        const Ran removed = oci({"delete", "--force", id});
                        succeeded(removed, "delete --force");
                    } else {
                        const bool sweep = coin();
                        how = sweep ? "then its process dies, then nslab cleanup"
                                    : "then its process dies, then delete";
                        const pid_t pid = state.pid;
                        int status = -1;
                        if (pid > 0 && ::kill(pid, SIGKILL) == 0)
                            status = nslab::exit_status_of(sys::waitpid(pid, 0));  // ours now
                        expect(status == 128 + SIGKILL,
                               "its process's end: " + std::to_string(status));
                        const std::string after = status_of(id);
                        expect(after.starts_with("stopped"),
                               "state once its process died: " + after);
                        const Ran removed = sweep ? cleanup() : oci({"delete", id});
                        succeeded(removed, sweep ? "nslab cleanup" : "delete");
                    }
                    for (const std::string& left : cgroup_dirs(cgroup))
                        expect(false, "its cgroup " + left + " after delete");
                    break;
                }
                case Ending::kill_delete: {
                    const Ran created = oci(create);
                    succeeded(created, "create");
                    const Saved state = saved(id);
                    ours.insert(runtime_of(state.cgroup));
                    if (coin()) {
                        how = "started, ";
                        oci({"start", id});
                    }
                    const double limit = 1.2 * (delete_ms > 0 ? delete_ms : 20.0);
                    const double at = std::uniform_real_distribution<double>(0, limit)(rng);
                    int status = -1;
                    {
                        const auto t0 = Clock::now();
                        Oci killed({"delete", "--force", id});
                        std::this_thread::sleep_until(
                            t0 + std::chrono::duration<double, std::milli>(at));
                        killed.kill();
                        status = killed.wait();
                        if (status == 0) delete_ms = ms_since(t0);
                    }
                    char text[96];
                    std::snprintf(text, sizeof text, "delete killed at %.1f ms of ~%.1f ms%s", at,
                                  limit / 1.2, status == 0 ? " (after it finished)" : "");
                    how += text;
                    if (status != 0) {
                        const Ran removed = oci({"delete", "--force", id});
                        succeeded(removed, "delete --force again");
                    }
                    break;
                }
                case Ending::two_creates: {
                    const Ran first = oci(create);
                    succeeded(first, "create");
                    const Saved state = saved(id);
                    const std::string cgroup = state.cgroup;
                    ours.insert(runtime_of(cgroup));
                    const std::vector<std::string> dirs = cgroup_dirs(cgroup);
                    expect(!dirs.empty(), "the first's cgroup " + cgroup);
                    const HostState between = snapshot();
                    Oci second(create);
                    const pid_t second_pid = second.pid();
                    ours.insert(second_pid);
                    const int status = second.wait();
                    const std::string err = second.err();
                    expect(status == 1,
                           "the second create: exit " + std::to_string(status) + ", not 1");
                    expect(
                        std::count(err.begin(), err.end(), '\n') == 1 &&
                            err.find("a container of this id exists already") != std::string::npos,
                        "the second create's stderr: " + err);
                    expect(saved(id).text == state.text, "the first's state.json changed");
                    expect(runs(state), "the first's process gone");
                    expect(cgroup_dirs(cgroup) == dirs, "the first's cgroup changed");
                    expect(status_of(id).starts_with("created"),
                           "the first's state: " + status_of(id));
                    // Nothing of its own: no cgroup named after it, no file.
                    for (const auto& line : settle(between, {second_pid}, 0ms, {state.pid}))
                        expect(false, "the second create's " + line);
                    const Ran removed = oci({"delete", "--force", id});
                    succeeded(removed, "delete --force");
                    break;
                }
            }
            const std::vector<std::string> left = settle(before, ours);
            Counts& c = table[e];
            ++c.runs;
            if (!wrong.empty() || !left.empty()) ++c.bad;
            if (!wrong.empty()) {
                std::printf("WRONG %s run %d [%s]:\n", name_of(e), run, how.c_str());
                for (const auto& line : wrong) std::printf("    %s\n", line.c_str());
            }
            if (!left.empty()) {
                ++leaked;
                std::printf("LEAK %s run %d [%s]:\n", name_of(e), run, how.c_str());
                for (const auto& line : left) std::printf("    %s\n", line.c_str());
                oci({"delete", "--force", id});
                kill_leftovers();
                run_cleanup();
            }
            std::fflush(stdout);
        }
    }

    std::printf("\n");
    int failed = 0;
    for (Ending e : endings) {
        const Counts& c = table[e];
        std::printf("  %-20s %d/%d ok\n", name_of(e), c.runs - c.bad, c.runs);
        failed += c.bad;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::printf(
        "oci: %d runs, %d leaks found (seed %llu, %.0f s); of %d killed creates, %d left "
        "a state directory, %d a live container process\n",
        runs_done, leaked, static_cast<unsigned long long>(seed), seconds, killed_creates,
        left_dirs, left_processes);
    std::printf("faults-oci: %d passed, %d failed\n", runs_done - failed, failed);
    return failed == 0 ? 0 : 1;
}

}  // namespace faults

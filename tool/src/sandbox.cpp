#include "sandbox.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "nslab/cgroupfs.hpp"
#include "nslab/command.hpp"
#include "nslab/fd.hpp"
#include "nslab/sys.hpp"

namespace tool {

namespace fs = std::filesystem;
namespace sys = nslab::sys;

namespace {

const std::string group = sandbox_cgroup_parent;

std::string gib(std::int64_t bytes) {
    std::ostringstream out;
    out << static_cast<double>(bytes) / (1LL << 30) << " GiB";
    return out.str();
}

std::uint64_t event_count(const std::string& file, const std::string& key) {
    try {
        return nslab::cgroupfs::parse_flat_keyed(sys::read_file(file))[key];
    } catch (const std::exception&) {
        return 0;  // the cgroup vanished meanwhile: nothing more was hit
    }
}

std::string comm_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(in, name);
    return name.empty() ? "pid " + std::to_string(pid) : name;
}

// A zombie (or dying task) is not running: its parent just has not reaped it.
bool is_zombie(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    auto close = stat.rfind(')');
    return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] == 'Z' ||
           stat[close + 2] == 'X';
}

// Our children that we did not start ourselves: orphans re-parented to us.
std::vector<pid_t> children_of_self() {
    std::vector<pid_t> kids;
    std::string me = std::to_string(::getpid());
    std::ifstream in("/proc/self/task/" + me + "/children");
    for (pid_t pid; in >> pid;) kids.push_back(pid);
    return kids;
}

void reap_all() {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {}
}

}  // namespace

void become_subreaper() {
    sys::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

Sandbox::Sandbox(const std::string& name, Limits limits) {
    namespace cg = nslab::cgroupfs;
    try {
        const cg::Host& host = cg::host();
        const bool v2 = host.mode == cg::Mode::unified;
        std::vector<std::string> controllers{"pids", "memory"};
        for (const std::string& controller : controllers)
            if (!v2 && !host.v1_dirs.count(controller))
                throw std::runtime_error("no v1 " + controller + " hierarchy");
        // v1: the freezer lets kill_all stop a fork bomb from outrunning it.
        if (!v2) controllers.push_back("freezer");
        const std::string pids = std::to_string(limits.pids),
                          memory = std::to_string(limits.memory);
        const std::vector<cg::LimitWrite> writes{
            {"pids", "pids.max", pids},
            {"memory", v2 ? "memory.max" : "memory.limit_in_bytes", memory}};
        // Named after this process, as a container's cgroup is after its
        // runtime: once a SIGKILL ends the grading, `nslab cleanup` sees the
        // owner gone and removes it.
        const std::string path = "/" + group + "/" + name + "-" + std::to_string(::getpid());
        {
            cg::CreationLock lock;  // `nslab cleanup` keeps nslab-grading/ meanwhile
            // A stale cgroup of the same name (a reused PID) is taken over.
            dirs_ = cg::make(host, path, controllers, cg::Existing::reuse, writes);
        }
        path_ = path;
        description_ = "cgroup " + std::string(v2 ? "v2" : "v1") + " (pids " +
                       std::to_string(limits.pids) + ", memory " + gib(limits.memory) + ")";
        kill_leftovers();  // what that stale cgroup still held
        limits_hit();
    } catch (const std::exception& e) {
        for (auto& dir : dirs_) ::rmdir(dir.c_str());
        dirs_.clear();
        path_.clear();
        description_ = std::string("no cgroup (") + e.what() + "): time limit and subreaper only";
    }
}

Sandbox::~Sandbox() {
    kill_leftovers();
    for (auto& dir : dirs_) try {
            nslab::cgroupfs::rmdir_with_retries(dir);
        } catch (const std::exception&) {
            // Left for `nslab cleanup`; the processes in it are dead.
        }
}

std::vector<pid_t> Sandbox::members() const {
    std::set<pid_t> pids;
    for (const auto& dir : dirs_)
        for (pid_t pid : nslab::cgroupfs::procs(dir)) pids.insert(pid);
    for (pid_t pid : children_of_self()) pids.insert(pid);
    return {pids.begin(), pids.end()};
}

std::vector<std::string> Sandbox::kill_leftovers() {
    // What a grader killed on its way out (a container whose PID 1 it
    // killed, an `unshare` helper) dies asynchronously: give it a moment,
    // reaping as we go, so only what stays alive counts as left behind.
    auto alive = [this] {
        std::vector<pid_t> pids;
        for (pid_t pid : members())
            if (!is_zombie(pid)) pids.push_back(pid);
        return pids;
    };
    for (int i = 0; i < 75 && !alive().empty(); ++i) {
        reap_all();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::set<std::string> names;
    // Then kill until none is left: the cgroup's (frozen, then killed;
    // cgroup.kill on v2) and the orphans re-parented to us, which may be
    // outside it.
    for (int round = 0; round < 200; ++round) {
        auto pids = members();
        if (pids.empty()) break;
        for (pid_t pid : pids)
            if (!is_zombie(pid)) names.insert(comm_of(pid));
        if (!path_.empty()) try {
                nslab::cgroupfs::kill(nslab::cgroupfs::host(), path_);
            } catch (const std::exception&) {
                // The cgroup vanished; the orphans are still killed below.
            }
        for (pid_t pid : children_of_self()) ::kill(pid, SIGKILL);
        reap_all();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    reap_all();
    return {names.begin(), names.end()};
}

std::vector<std::string> Sandbox::limits_hit() {
    std::vector<std::string> hit;
    for (const auto& dir : dirs_) {
        if (fs::exists(dir + "/pids.events")) {
            auto n = event_count(dir + "/pids.events", "max");
            if (n > pids_events_) hit.push_back("pids");
            pids_events_ = n;
        }
        std::string memory_events = fs::exists(dir + "/memory.events") ? dir + "/memory.events"
                                    : fs::exists(dir + "/memory.oom_control")
                                        ? dir + "/memory.oom_control"
                                        : "";
        if (!memory_events.empty()) {
            auto n = event_count(memory_events, "oom_kill");
            if (n > oom_events_) hit.push_back("memory");
            oom_events_ = n;
        }
    }
    return hit;
}

Sandbox::Outcome Sandbox::run(const std::vector<std::string>& argv, Clock::time_point deadline,
                              const std::string& log, const std::string& directory) {
    namespace command = nslab::command;
    const std::vector<std::string>& join = dirs_;
    Outcome outcome;
    try {
        nslab::Fd out = sys::open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        command::Child child = command::start({
            .argv = argv,
            .in = command::Stream::null(),
            .out = command::Stream::to(out.get()),
            .err = command::Stream::to(out.get()),
            .directory = directory,
            .environment = {{"LC_ALL", "C"}},  // plain ASCII messages, the same on every machine
            // Join the cgroup before exec, so everything the program
            // starts is counted and can be killed.
            .before_exec =
                [&] {
                    for (const auto& dir : join)
                        sys::write_file(dir + "/cgroup.procs", std::to_string(::getpid()));
                },
        });
        auto ended = command::wait_until(child.pid, deadline);
        outcome.status = ended.status;
        outcome.timed_out = ended.timed_out;
    } catch (const std::system_error& e) {
        // It never ran (no log, no cgroup, no such program): the status a
        // shell would give, and the reason in the log when there is one.
        const auto* not_started = dynamic_cast<const command::NotStarted*>(&e);
        outcome.status = W_EXITCODE(not_started ? not_started->status() : 125, 0);
        std::ofstream(log, std::ios::app) << "nslab: " << e.what() << "\n";
    }
    return outcome;
}

}  // namespace tool

#include "nslab/cgroupfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "nslab/errors.hpp"
#include "nslab/layers/cgroup.hpp"
#include "nslab/parse.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace nslab::cgroupfs {

namespace {

constexpr std::string_view parent_name = "nslab";

// The v1 hierarchies nslab makes a container's cgroup in. freezer is there
// to stop a fork loop while its processes are killed (v1 has no cgroup.kill).
constexpr std::string_view v1_controllers[] = {"memory", "pids", "cpu", "cpuacct", "freezer"};

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t end = text.find(separator, start);
        parts.emplace_back(text.substr(start, end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

std::optional<long> fs_type(const std::string& path) {
    if (!sys::exists(path)) return std::nullopt;
    return static_cast<long>(sys::statfs(path).f_type);
}

std::string text_of(const std::string& path) {
    std::string text = sys::read_file(path);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

std::string directory_of(const Host& host, const std::string& controller) {
    auto it = host.v1_dirs.find(controller);
    return it == host.v1_dirs.end() ? std::string() : it->second;
}

// The v1 freezer cgroup at `path` (relative to a hierarchy), for kill_all;
// "" when the host has no freezer hierarchy.
std::string freezer_of(const Host& host, const std::string& path) {
    std::string freezer = directory_of(host, "freezer");
    return freezer.empty() ? freezer : freezer + path;
}

}  // namespace

std::string to_string(Mode mode) {
    switch (mode) {
        case Mode::unified:
            return "unified (cgroup v2)";
        case Mode::hybrid:
            return "hybrid (cgroup v1 controllers, v2 without)";
        case Mode::legacy:
            return "legacy (cgroup v1)";
    }
    return "?";
}

Mode decide_mode(long root_type, std::optional<long> unified_type) {
    if (root_type == CGROUP2_SUPER_MAGIC) return Mode::unified;
    if (root_type == TMPFS_MAGIC && unified_type == CGROUP2_SUPER_MAGIC) return Mode::hybrid;
    return Mode::legacy;
}

std::vector<ProcCgroupLine> parse_proc_cgroup(std::string_view text) {
    std::vector<ProcCgroupLine> lines;
    for (const std::string& line : split(text, '\n')) {
        if (line.empty()) continue;
        // The path may itself hold ':', so split at the first two only.
        size_t first = line.find(':');
        size_t second = first == std::string::npos ? first : line.find(':', first + 1);
        if (second == std::string::npos)
            throw std::runtime_error("not a /proc/PID/cgroup line: '" + line + "'");
        ProcCgroupLine entry;
        std::string_view id(line.data(), first);
        if (std::from_chars(id.data(), id.data() + id.size(), entry.id).ec != std::errc())
            throw std::runtime_error("not a /proc/PID/cgroup line: '" + line + "'");
        std::string controllers = line.substr(first + 1, second - first - 1);
        if (!controllers.empty()) entry.controllers = split(controllers, ',');
        entry.path = line.substr(second + 1);
        lines.push_back(std::move(entry));
    }
    return lines;
}

std::map<std::string, std::uint64_t> parse_flat_keyed(std::string_view text) {
    std::map<std::string, std::uint64_t> values;
    for (const std::string& line : split(text, '\n')) {
        std::istringstream fields(line);
        std::string key;
        std::uint64_t value = 0;
        if (fields >> key >> value) values[key] = value;
    }
    return values;
}

CpuQuota cpu_quota(double cpus) {
    return {static_cast<std::uint64_t>(std::llround(cpus * cpu_period_us)), cpu_period_us};
}

std::string cpu_max(double cpus) {
    CpuQuota q = cpu_quota(cpus);
    return std::to_string(q.quota_us) + " " + std::to_string(q.period_us);
}

std::string human_bytes(std::uint64_t bytes) {
    static constexpr std::pair<std::uint64_t, const char*> units[] = {
        {1ULL << 40, "TiB"}, {1ULL << 30, "GiB"}, {1ULL << 20, "MiB"}, {1ULL << 10, "KiB"}};
    for (auto [size, name] : units)
        if (bytes >= size && bytes % size == 0) return std::to_string(bytes / size) + " " + name;
    return std::to_string(bytes) + " bytes";
}

std::vector<std::string> controllers_for(const Config& cfg) {
    std::vector<std::string> controllers;
    if (cfg.memory) controllers.push_back("memory");
    if (cfg.pids) controllers.push_back("pids");
    if (cfg.cpus) controllers.push_back("cpu");
    return controllers;
}

std::string subtree_control_line(const std::vector<std::string>& controllers) {
    std::string line;
    for (const auto& c : controllers) line += (line.empty() ? "+" : " +") + c;
    return line;
}

std::vector<LimitWrite> v2_limits(const Config& cfg) {
    std::vector<LimitWrite> writes;
    if (cfg.memory) {
        writes.push_back({"memory", "memory.max", std::to_string(*cfg.memory)});
        // Without this the hog would be swapped out instead of killed.
        writes.push_back({"memory", "memory.swap.max", "0", true});
    }
    if (cfg.pids) writes.push_back({"pids", "pids.max", std::to_string(*cfg.pids)});
    if (cfg.cpus) writes.push_back({"cpu", "cpu.max", cpu_max(*cfg.cpus)});
    return writes;
}

std::vector<LimitWrite> v1_limits(const Config& cfg) {
    std::vector<LimitWrite> writes;
    if (cfg.memory) {
        // memsw (memory + swap) may never be below the memory limit: the
        // memory limit goes first.
        const std::string bytes = std::to_string(*cfg.memory);
        writes.push_back({"memory", "memory.limit_in_bytes", bytes});
        writes.push_back({"memory", "memory.memsw.limit_in_bytes", bytes, true});
    }
    if (cfg.pids) writes.push_back({"pids", "pids.max", std::to_string(*cfg.pids)});
    if (cfg.cpus) {
        CpuQuota q = cpu_quota(*cfg.cpus);
        writes.push_back({"cpu", "cpu.cfs_period_us", std::to_string(q.period_us)});
        writes.push_back({"cpu", "cpu.cfs_quota_us", std::to_string(q.quota_us)});
    }
    return writes;
}

std::string container_path(const std::string& id, pid_t runtime) {
    return "/" + std::string(parent_name) + "/" + id + "-" + std::to_string(runtime);
}

std::string v2_directory(const std::string& path) {
    return std::string(mount_point) + path;
}

std::optional<pid_t> owner_of(std::string_view name) {
    size_t dash = name.rfind('-');
    if (dash == std::string_view::npos || dash + 1 == name.size()) return std::nullopt;
    pid_t pid = 0;
    const char* end = name.data() + name.size();
    auto [ptr, ec] = std::from_chars(name.data() + dash + 1, end, pid);
    if (ec != std::errc() || ptr != end || pid <= 0) return std::nullopt;
    return pid;
}

std::vector<std::string> ancestors(const std::string& root, const std::string& path) {
    std::vector<std::string> dirs{root};
    std::vector<std::string> parts = split(path, '/');
    std::string dir = root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        if (parts[i].empty()) continue;
        dir += "/" + parts[i];
        dirs.push_back(dir);
    }
    return dirs;
}

std::vector<std::string> Host::hierarchies() const {
    if (mode == Mode::unified) return {std::string(mount_point)};
    std::vector<std::string> dirs;
    for (const auto& [controller, dir] : v1_dirs)
        if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
    return dirs;
}

const Host& host() {
    static const Host detected = [] {
        const std::string root(mount_point);
        auto root_type = fs_type(root);
        if (!root_type) throw std::runtime_error("no cgroup file system: " + root + " is missing");
        Host h;
        h.mode = decide_mode(*root_type, fs_type(root + "/unified"));
        if (h.mode == Mode::unified) {
            for (const auto& c : split(text_of(root + "/cgroup.controllers"), ' '))
                if (!c.empty()) h.controllers.insert(c);
            return h;
        }
        for (std::string_view c : v1_controllers) {
            std::string dir = root + "/" + std::string(c);
            if (fs_type(dir) != CGROUP_SUPER_MAGIC) continue;
            // cpu and cpuacct are often one hierarchy, "cpu,cpuacct", with
            // two symlinks to it.
            h.v1_dirs[std::string(c)] = std::filesystem::canonical(dir).string();
            h.controllers.insert(std::string(c));
        }
        return h;
    }();
    return detected;
}

void validate(const Config& cfg, const Host& host, long cpus_online) {
    if (cfg.cpus) {
        char text[64];
        std::snprintf(text, sizeof text, "%g", *cfg.cpus);
        if (*cfg.cpus > static_cast<double>(cpus_online))
            parse::invalid("--cpus", text,
                           "this machine has " + std::to_string(cpus_online) + " CPUs");
        if (cpu_quota(*cfg.cpus).quota_us < 1000)
            parse::invalid("--cpus", text,
                           "at least 0.01 (the kernel's smallest quota is 1 ms a period)");
    }
    struct Need {
        const char* option;
        const char* controller;
        bool asked;
    };
    for (const Need& need : {Need{"--memory", "memory", cfg.memory.has_value()},
                             Need{"--pids", "pids", cfg.pids.has_value()},
                             Need{"--cpus", "cpu", cfg.cpus.has_value()}}) {
        if (!need.asked || host.controllers.count(need.controller)) continue;
        throw std::runtime_error(std::string(need.option) + " needs the " + need.controller +
                                 " controller, which this host's " +
                                 (host.mode == Mode::unified
                                      ? "cgroup v2 does not offer (see cgroup.controllers)"
                                      : "cgroup v1 has not mounted under /sys/fs/cgroup"));
    }
}

std::vector<pid_t> procs(const std::string& dir) {
    return procfs::parse_pid_list(sys::read_file(dir + "/cgroup.procs"));
}

void kill_all(const std::string& dir, const std::string& freezer_dir) {
    if (!sys::exists(dir)) return;
    if (sys::exists(dir + "/cgroup.kill")) {
        sys::write_file(dir + "/cgroup.kill", "1");
        return;
    }
    // Usually the command has ended and nothing is left: done (freezing
    // and thawing five v1 hierarchies costs about a millisecond). Nothing
    // can fork into an empty cgroup.
    if (procs(dir).empty()) return;
    // Without cgroup.kill a process could fork between our reading
    // cgroup.procs and killing it: freeze the cgroup first. SIGKILL still
    // ends a frozen process, once it is thawed.
    std::string freeze_file, frozen, thawed;
    if (sys::exists(dir + "/cgroup.freeze")) {
        freeze_file = dir + "/cgroup.freeze", frozen = "1", thawed = "0";
    } else if (!freezer_dir.empty() && sys::exists(freezer_dir + "/freezer.state")) {
        freeze_file = freezer_dir + "/freezer.state", frozen = "FROZEN", thawed = "THAWED";
    }
    if (!freeze_file.empty()) sys::write_file(freeze_file, frozen);
    for (pid_t pid : procs(dir)) ::kill(pid, SIGKILL);  // ESRCH: gone already
    if (!freeze_file.empty()) sys::write_file(freeze_file, thawed);
}

void rmdir_with_retries(const std::string& dir) {
    // The last task leaves the cgroup only once it is fully gone, a moment
    // after waitpid(2) returns for it (or after SIGKILL is delivered): rmdir
    // says EBUSY until then. Up to about 3 s in all.
    auto pause = std::chrono::milliseconds(1);
    for (int attempt = 0;; ++attempt) {
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
        if (errno != EBUSY || attempt == 60) sys::fail("rmdir(" + dir + ")");
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(64));
    }
}

namespace v1 {

void create(const Host& host, const std::string& path, const Config& cfg) {
    std::vector<std::string> made;
    ScopeGuard undo([&] {
        for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
    });
    // No subtree_control in v1: every controller of a hierarchy applies to
    // every cgroup in it. mkdir -p makes the nslab parent on first use.
    for (const std::string& hierarchy : host.hierarchies()) {
        std::string dir = hierarchy + path;
        if (sys::exists(dir)) throw std::runtime_error("cgroup " + dir + " exists already");
        sys::mkdir_p(dir, 0755);
        made.push_back(dir);
    }
    for (const LimitWrite& w : v1_limits(cfg)) {
        std::string file = directory_of(host, w.controller) + path + "/" + w.file;
        if (w.optional && !sys::exists(file)) continue;
        sys::write_file(file, w.value);
    }
    undo.dismiss();
}

std::vector<Fd> open_tasks(const Host& host, const std::string& path) {
    std::vector<Fd> files;
    for (const std::string& hierarchy : host.hierarchies())
        files.push_back(sys::open(hierarchy + path + "/tasks", O_WRONLY));
    return files;
}

void mount_readonly(const Host& host, const std::string& target) {
    constexpr unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    sys::mount("tmpfs", target, "tmpfs", flags, "mode=755,size=64k");
    for (const std::string& hierarchy : host.hierarchies()) {
        // The directory is named after its controllers ("cpu,cpuacct"),
        // which are also the mount options that pick the hierarchy.
        std::string name = std::filesystem::path(hierarchy).filename().string();
        sys::mkdir(target + "/" + name, 0755);
        sys::mount("cgroup", target + "/" + name, "cgroup", flags | MS_RDONLY, name);
        for (const std::string& controller : split(name, ','))
            if (controller != name) sys::symlink(name, target + "/" + controller);
    }
    sys::mount("", target, "", MS_REMOUNT | MS_RDONLY | flags);
}

std::uint64_t oom_kills(const Host& host, const std::string& path) {
    std::string memory = directory_of(host, "memory");
    if (memory.empty()) return 0;
    // "oom_kill N" since Linux 4.13; the same "key value" format as v2's memory.events.
    return parse_flat_keyed(sys::read_file(memory + path + "/memory.oom_control"))["oom_kill"];
}

void remove(const Host& host, const std::string& path) {
    for (const std::string& hierarchy : host.hierarchies())
        kill_all(hierarchy + path, freezer_of(host, path));
    for (const std::string& hierarchy : host.hierarchies()) rmdir_with_retries(hierarchy + path);
}

}  // namespace v1

}  // namespace nslab::cgroupfs

namespace nslab::cgroup {

void join(State& state) {
    // v1 has no CLONE_INTO_CGROUP. A PID written to cgroup.procs moves a
    // whole thread group, under a lock (cgroup_threadgroup_rwsem) whose
    // writer waits for an RCU grace period: milliseconds. A single thread
    // moving itself ("0" into `tasks`) skips that lock. We are that thread,
    // before we can fork or exec. The parent opened the files before the
    // clone, and the kernel checks the opener's credentials (Linux 5.16), so
    // the user namespace we may be in changes nothing.
    for (const Fd& tasks : state.v1_tasks)
        sys::check(::write(tasks.get(), "0", 1), "write(0 > cgroup tasks)");
    state.v1_tasks.clear();
}

std::vector<std::string> cleanup_stale(std::vector<std::string>* errors) {
    using namespace cgroupfs;
    std::vector<std::string> removed;
    const Host& h = host();
    for (const std::string& hierarchy : h.hierarchies()) {
        const std::string parent = hierarchy + "/" + std::string(parent_name);
        std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(parent.c_str()), ::closedir);
        if (!dir) continue;
        while (dirent* entry = ::readdir(dir.get())) {
            if (entry->d_type != DT_DIR || entry->d_name[0] == '.') continue;
            auto owner = owner_of(entry->d_name);
            // A runtime that is still running owns its cgroup (EPERM: alive too).
            if (!owner || ::kill(*owner, 0) == 0 || errno == EPERM) continue;
            const std::string path = parent + "/" + entry->d_name;
            try {
                const std::string relative = "/" + std::string(parent_name) + "/" + entry->d_name;
                kill_all(path, freezer_of(h, relative));
                rmdir_with_retries(path);
                removed.push_back(path);
            } catch (const std::exception& e) {
                // Gone meanwhile: another cleanup (a grader's, say) was first.
                if (errors && sys::exists(path)) errors->push_back(e.what());
            }
        }
    }
    return removed;
}

}  // namespace nslab::cgroup

#include "nslab/cgroup_plan.hpp"

#include <linux/magic.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "nslab/parse.hpp"

namespace nslab::cgroupfs {

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

std::vector<std::string> Host::hierarchies_of(const std::vector<std::string>& wanted) const {
    if (mode == Mode::unified) return {std::string(mount_point)};
    std::vector<std::string> dirs;
    for (const std::string& controller : wanted) {
        auto it = v1_dirs.find(controller);
        if (it != v1_dirs.end() && std::find(dirs.begin(), dirs.end(), it->second) == dirs.end())
            dirs.push_back(it->second);
    }
    return dirs;
}

std::string Host::directory(const std::string& controller, const std::string& path) const {
    if (mode == Mode::unified) return v2_directory(path);
    auto it = v1_dirs.find(controller);
    return it == v1_dirs.end() ? std::string() : it->second + path;
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

}  // namespace nslab::cgroupfs

#include "nslab/cgroup_plan.hpp"

#include <linux/magic.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
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

const std::vector<DeviceRule>& default_devices() {
    static const std::vector<DeviceRule> rules = {
        {'c', -1, -1, "m"},     // mknod of any node: making one opens nothing
        {'b', -1, -1, "m"},     //
        {'c', 1, 3, "rwm"},     // null
        {'c', 1, 5, "rwm"},     // zero
        {'c', 1, 7, "rwm"},     // full
        {'c', 1, 8, "rwm"},     // random
        {'c', 1, 9, "rwm"},     // urandom
        {'c', 5, 0, "rwm"},     // tty
        {'c', 5, 2, "rwm"},     // ptmx
        {'c', 136, -1, "rwm"},  // pts/*: the Unix 98 terminals
    };
    return rules;
}

std::string device_line(const DeviceRule& rule) {
    auto number = [](int n) { return n < 0 ? std::string("*") : std::to_string(n); };
    return std::string(1, rule.type) + " " + number(rule.major) + ":" + number(rule.minor) + " " +
           rule.access;
}

std::vector<LimitWrite> v1_device_limits(const std::vector<DeviceRule>& rules) {
    // A new v1 devices cgroup copies its parent's list (here: everything).
    // "a" empties it and makes the default deny; then each rule is added.
    std::vector<LimitWrite> writes{{"devices", "devices.deny", "a"}};
    for (const DeviceRule& rule : rules)
        writes.push_back({"devices", "devices.allow", device_line(rule)});
    return writes;
}

namespace {

bpf_insn instruction(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off,
                     std::int32_t imm) {
    bpf_insn insn{};
    insn.code = code;
    insn.dst_reg = dst & 0xf;
    insn.src_reg = src & 0xf;
    insn.off = off;
    insn.imm = imm;
    return insn;
}

// The registers: r1 the context on entry, r0 the answer.
enum : std::uint8_t { r0 = 0, r1, r2, r3, r4, r5 };

bpf_insn load_u32(std::uint8_t dst, std::int16_t offset) {  // dst = *(u32 *)(r1 + offset)
    return instruction(BPF_LDX | BPF_MEM | BPF_W, dst, r1, offset, 0);
}
bpf_insn alu32(std::uint8_t op, std::uint8_t dst, std::int32_t imm) {  // dst op= imm
    return instruction(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn move32(std::uint8_t dst, std::uint8_t src) {  // dst = src
    return instruction(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn jump_if_not(std::uint8_t dst, std::int32_t imm) {  // if dst != imm: to the next rule
    return instruction(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm);
}
bpf_insn jump_if_not_reg(std::uint8_t dst, std::uint8_t src) {  // if dst != src: the next rule
    return instruction(BPF_JMP | BPF_JNE | BPF_X, dst, src, 0, 0);
}
bpf_insn answer(std::int32_t allowed) {  // r0 = allowed
    return instruction(BPF_ALU64 | BPF_MOV | BPF_K, r0, 0, 0, allowed);
}
bpf_insn exit_program() {
    return instruction(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

}  // namespace

std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules) {
    std::vector<bpf_insn> program = {
        load_u32(r2, offsetof(bpf_cgroup_dev_ctx, access_type)),
        alu32(BPF_AND, r2, 0xffff),  // r2: the type, BPF_DEVCG_DEV_BLOCK or _CHAR
        load_u32(r3, offsetof(bpf_cgroup_dev_ctx, access_type)),
        alu32(BPF_RSH, r3, 16),  // r3: what is asked, BPF_DEVCG_ACC_MKNOD | _READ | _WRITE
        load_u32(r4, offsetof(bpf_cgroup_dev_ctx, major)),
        load_u32(r5, offsetof(bpf_cgroup_dev_ctx, minor)),
    };
    for (const DeviceRule& rule : rules) {
        std::int32_t allowed = 0;
        for (char c : rule.access)
            allowed |= c == 'r'   ? BPF_DEVCG_ACC_READ
                       : c == 'w' ? BPF_DEVCG_ACC_WRITE
                                  : BPF_DEVCG_ACC_MKNOD;
        std::vector<bpf_insn> block = {
            jump_if_not(r2, rule.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR)};
        // Every access asked must be one the rule allows: (r3 & allowed) == r3.
        block.push_back(move32(r1, r3));
        block.push_back(alu32(BPF_AND, r1, allowed));
        block.push_back(jump_if_not_reg(r1, r3));
        if (rule.major >= 0) block.push_back(jump_if_not(r4, rule.major));
        if (rule.minor >= 0) block.push_back(jump_if_not(r5, rule.minor));
        block.push_back(answer(1));
        block.push_back(exit_program());
        // Each jump above goes past the block's end, to the next rule.
        for (size_t i = 0; i + 2 < block.size(); ++i)
            if (BPF_CLASS(block[i].code) == BPF_JMP && BPF_OP(block[i].code) == BPF_JNE)
                block[i].off = static_cast<std::int16_t>(block.size() - (i + 1));
        program.insert(program.end(), block.begin(), block.end());
    }
    program.push_back(answer(0));  // no rule matched: EPERM
    program.push_back(exit_program());
    return program;
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

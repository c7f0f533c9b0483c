// Lab 06's plans: what a container's cgroup is called, which controllers and
// limit files it needs and what goes in them, how to read the kernel's
// cgroup files. Pure decisions and texts, unit-tested without root
// (tests/unit/cgroup_test.cpp); the host driver that acts on them is
// cgroupfs.hpp, the cgroup v1 half of the lab cgroup_v1.hpp.
//
// cgroups(7): a cgroup is a directory in a cgroup file system; its files
// hold the limits, and writing a PID to its cgroup.procs moves a process in.
// v1 has one tree per controller (memory, pids, cpu...), v2 one tree for all,
// with controllers switched on per subtree in cgroup.subtree_control.
#pragma once

#include <linux/bpf.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/config.hpp"

namespace nslab::cgroupfs {

inline constexpr std::string_view mount_point = "/sys/fs/cgroup";
// The parent of every container's cgroup, at the top of each hierarchy.
inline constexpr std::string_view parent_name = "nslab";

// The three shapes of /sys/fs/cgroup (cgroups(7); how each is tested: tests/vm/README.md).
enum class Mode {
    unified,  // cgroup2 itself: one tree, every controller
    hybrid,   // tmpfs of v1 hierarchies, plus cgroup2 at unified/ holding no controllers
    legacy    // tmpfs of v1 hierarchies only
};
std::string to_string(Mode mode);

// The mode from statfs(2) results: f_type of /sys/fs/cgroup, and of
// /sys/fs/cgroup/unified when that exists.
Mode decide_mode(long root_type, std::optional<long> unified_type);

// "memory,pids" -> {"memory", "pids"}: the lists of the cgroup files.
std::vector<std::string> split(std::string_view text, char separator);

// One line of /proc/PID/cgroup: "4:memory:/nslab/x" or, on v2, "0::/nslab/x".
struct ProcCgroupLine {
    int id = 0;                            // hierarchy ID; 0 is the v2 tree
    std::vector<std::string> controllers;  // empty for v2 (and name= hierarchies keep the name)
    std::string path;                      // relative to the reader's cgroup namespace root
    bool operator==(const ProcCgroupLine&) const = default;
};
std::vector<ProcCgroupLine> parse_proc_cgroup(std::string_view text);

// "key value" lines: memory.events, cpu.stat, pids.events, v1 memory.oom_control.
std::map<std::string, std::uint64_t> parse_flat_keyed(std::string_view text);

// --cpus as a CFS bandwidth quota per period (both in microseconds).
inline constexpr std::uint64_t cpu_period_us = 100000;
struct CpuQuota {
    std::uint64_t quota_us = 0;
    std::uint64_t period_us = cpu_period_us;
};
CpuQuota cpu_quota(double cpus);
std::string cpu_max(double cpus);  // v2 cpu.max: "20000 100000"

// "64 MiB", "1 GiB", "1536 KiB", "1000 bytes".
std::string human_bytes(std::uint64_t bytes);

// Which controllers the requested limits need: "memory", "pids", "cpu".
std::vector<std::string> controllers_for(const Config& cfg);
// What to write to cgroup.subtree_control to switch them on: "+memory +pids".
std::string subtree_control_line(const std::vector<std::string>& controllers);

// One limit file to write. `optional`: skip it when the kernel lacks the file
// (memory.swap.max without swap accounting, v1 memsw).
struct LimitWrite {
    std::string controller;
    std::string file;
    std::string value;
    bool optional = false;
    bool operator==(const LimitWrite&) const = default;
};
std::vector<LimitWrite> v2_limits(
    const Config& cfg);  // memory.max, memory.swap.max, pids.max, cpu.max
std::vector<LimitWrite> v1_limits(
    const Config& cfg);  // memory.limit_in_bytes, ..., cpu.cfs_quota_us

// The container's cgroup, relative to a hierarchy's root: "/nslab/ID-PID",
// PID being the runtime's, so `cleanup` can tell a live container from a stale one.
std::string container_path(const std::string& id, pid_t runtime);
// Its directory in the v2 tree: "/nslab/x" -> "/sys/fs/cgroup/nslab/x".
std::string v2_directory(const std::string& path);
// The runtime PID in a container cgroup's name, if it has one.
std::optional<pid_t> owner_of(std::string_view name);
// The cgroups from the hierarchy root down to the container's parent, all
// of which must have the controllers in their subtree_control (v2):
// ("/sys/fs/cgroup", "/nslab/x") -> {"/sys/fs/cgroup", "/sys/fs/cgroup/nslab"}.
std::vector<std::string> ancestors(const std::string& root, const std::string& path);

// What the host offers, as the driver detects it (cgroupfs::host()).
struct Host {
    Mode mode = Mode::legacy;
    std::set<std::string> controllers;  // the controllers a container's cgroup can use
    // v1: each controller nslab uses -> its hierarchy's directory (canonical,
    // so co-mounted cpu,cpuacct appear once in hierarchies()).
    std::map<std::string, std::string> v1_dirs;
    std::vector<std::string> hierarchies() const;  // v2: {mount_point}; v1: distinct v1_dirs
    // The hierarchies that hold any of `controllers` (v2: the one tree).
    std::vector<std::string> hierarchies_of(const std::vector<std::string>& controllers) const;
    // The directory of the cgroup `path` (relative to a hierarchy's root) in
    // the hierarchy of `controller`; "" when v1 has no such hierarchy.
    std::string directory(const std::string& controller, const std::string& path) const;
};

// Lab 11: the device nodes a confined container may use. Docker's default
// (runc's AllowedDevices): any node may be made ("m": mknod(2) stays
// allowed, as CAP_MKNOD says), only these opened for reading or writing;
// a node of the host's disk made inside is useless.
struct DeviceRule {
    char type = 'c';     // 'c' character, 'b' block
    int major = -1;      // -1: any ("*")
    int minor = -1;      // -1: any
    std::string access;  // some of "rwm": read, write, mknod
    bool operator==(const DeviceRule&) const = default;
};
// null zero full random urandom tty ptmx pts/*, and "m" for every node.
const std::vector<DeviceRule>& default_devices();
// cgroup v1's text for a rule (devices.allow): "c 1:3 rwm", "b *:* m".
std::string device_line(const DeviceRule& rule);
// cgroup v1 (the devices controller): deny all, then allow each rule, in
// the container's cgroup of the devices hierarchy.
std::vector<LimitWrite> v1_device_limits(const std::vector<DeviceRule>& rules);
// cgroup v2 has no devices files: a BPF_PROG_TYPE_CGROUP_DEVICE program
// attached to the cgroup answers each open and mknod (1: allow, 0: EPERM).
// It reads struct bpf_cgroup_dev_ctx (access_type: access << 16 | type,
// major, minor) and tries the rules in order; none matches: deny.
std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules);

// Refuses, before anything is made, what cannot work: more CPUs than the
// machine has (UsageError), a controller the host lacks (runtime error).
void validate(const Config& cfg, const Host& host, long cpus_online);

}  // namespace nslab::cgroupfs

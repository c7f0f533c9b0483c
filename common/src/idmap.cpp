#include "nslab/idmap.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <stdexcept>

#include "nslab/errors.hpp"
#include "nslab/kernel.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace nslab::idmap {

namespace {

std::string entry_text(const IdMapEntry& e) {
    return std::to_string(e.inside) + ":" + std::to_string(e.outside) + ":" +
           std::to_string(e.count);
}

bool ranges_meet(std::uint64_t a, std::uint64_t b, std::uint64_t count_a, std::uint64_t count_b) {
    return a < b + count_b && b < a + count_a;
}

// The default map of a root caller: never host id 0, always a range of
// ids no account on the host uses.
IdMapEntry subordinate_default(const char* kind, const std::optional<IdMapEntry>& range) {
    if (range) return *range;
    const std::string file = std::string("/etc/sub") + kind;
    throw std::runtime_error(
        std::string("--userns as root maps the container's root to the subordinate ") + kind +
        "s of user '" + subordinate_user + "' in " + file +
        ", so that it is not the host's root, and there are none: run './nslab setup' "
        "(it adds them), or give --uid-map and --gid-map");
}

// One map (uid or gid) for this caller: the default, or the checked request.
std::string plan_one(const char* option, const char* kind, const std::vector<IdMapEntry>& asked,
                     std::uint32_t own_id, bool privileged,
                     const std::optional<IdMapEntry>& subordinate, const Limits& limits) {
    std::vector<IdMapEntry> map = asked;
    if (map.empty())
        map = {privileged ? subordinate_default(kind, subordinate) : IdMapEntry{0, own_id, 1}};
    const std::string opt = std::string("--") + option;
    if (map.size() > limits.max_lines)
        throw UsageError(opt + ": " + std::to_string(map.size()) +
                         " ranges, but this kernel takes at most " +
                         std::to_string(limits.max_lines) + " lines in a " + kind + " map");
    bool maps_root = false;
    for (size_t i = 0; i < map.size(); ++i) {
        maps_root = maps_root || map[i].inside == 0;
        for (size_t j = 0; j < i; ++j) {
            const IdMapEntry &a = map[i], &b = map[j];
            if (ranges_meet(a.inside, b.inside, a.count, b.count) ||
                ranges_meet(a.outside, b.outside, a.count, b.count))
                throw UsageError(opt + ": " + entry_text(b) + " and " + entry_text(a) +
                                 " overlap; each id may be mapped once, inside and outside");
        }
    }
    if (!maps_root)
        throw UsageError(opt + ": nothing maps " + kind +
                         " 0 inside, so the container would have no root; add 0:OUTSIDE:COUNT");
    // An unprivileged writer may map exactly its own id, once.
    if (!privileged && !(map.size() == 1 && map[0].outside == own_id && map[0].count == 1))
        throw UsageError(opt + " " + entry_text(map[0]) + ": as " + kind + " " +
                         std::to_string(own_id) + " you may map only your own " + kind +
                         ", once (0:" + std::to_string(own_id) +
                         ":1); wider maps need root (or newuidmap(1) and /etc/subuid, which "
                         "nslab does not use)");
    std::string written = text(map);
    if (written.size() >= limits.page_size)
        throw UsageError(opt + ": the map is " + std::to_string(written.size()) +
                         " bytes; the kernel takes it in one write of less than a page (" +
                         std::to_string(limits.page_size) + " bytes)");
    return written;
}

std::optional<long> read_sysctl(const std::string& path) {
    try {
        std::string value = sys::read_file(path);
        long number = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
        if (ec != std::errc{}) return std::nullopt;
        return number;
    } catch (const std::system_error&) {
        return std::nullopt;  // this kernel has no such switch
    }
}

}  // namespace

// Read once: the runtime's own credentials do not change before it clones,
// and the command line, the checks, the maps and the error hint all ask.
Caller Caller::current() {
    static const Caller caller = [] {
        Caller c;
        c.uid = ::geteuid();
        c.gid = ::getegid();
        auto fields = procfs::parse_status(sys::read_file("/proc/self/status"));
        std::uint64_t effective = std::stoull("0" + fields["CapEff"], nullptr, 16);
        constexpr std::uint64_t needed =
            (1ULL << 6) | (1ULL << 7) | (1ULL << 21);  // SETGID SETUID SYS_ADMIN
        c.privileged = (effective & needed) == needed;
        if (c.privileged) {
            auto range = [](const char* file, std::uint32_t id) -> std::optional<IdMapEntry> {
                try {
                    return subordinate_range(sys::read_file(file), subordinate_user, id);
                } catch (const std::system_error&) {
                    return std::nullopt;  // no such file: no range
                }
            };
            const passwd* user = ::getpwnam(subordinate_user);
            c.sub_uids = range("/etc/subuid", user ? user->pw_uid : UINT32_MAX);
            c.sub_gids = range("/etc/subgid", user ? user->pw_gid : UINT32_MAX);
        }
        return c;
    }();
    return caller;
}

std::optional<IdMapEntry> subordinate_range(std::string_view text, std::string_view user,
                                            std::uint32_t uid) {
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        size_t first = line.find(':'), second = line.find(':', first + 1);
        if (first == std::string_view::npos || second == std::string_view::npos) continue;
        std::string_view name = line.substr(0, first);
        if (name != user && name != std::to_string(uid)) continue;
        std::uint32_t outside = 0, count = 0;
        std::string_view a = line.substr(first + 1, second - first - 1),
                         b = line.substr(second + 1);
        auto [pa, ea] = std::from_chars(a.data(), a.data() + a.size(), outside);
        auto [pb, eb] = std::from_chars(b.data(), b.data() + b.size(), count);
        if (ea != std::errc{} || eb != std::errc{} || pa != a.data() + a.size() ||
            pb != b.data() + b.size() || count == 0 || outside == 0)
            continue;  // malformed, or one that would map host id 0
        return IdMapEntry{0, outside, count};
    }
    return std::nullopt;
}

std::size_t max_lines(std::string_view release) {
    return kernel::at_least(release, 4, 15) ? 340 : 5;
}

std::size_t max_lines_of_running_kernel() {
    return max_lines(kernel::release());
}

Limits Limits::current() {
    return {max_lines_of_running_kernel(), static_cast<size_t>(::sysconf(_SC_PAGESIZE))};
}

std::string text(const std::vector<IdMapEntry>& map) {
    std::string lines;
    for (const auto& e : map)
        lines += std::to_string(e.inside) + " " + std::to_string(e.outside) + " " +
                 std::to_string(e.count) + "\n";
    return lines;
}

Plan plan(const Config& cfg, const Caller& caller, const Limits& limits) {
    Plan result;
    result.uid_map = plan_one("uid-map", "uid", cfg.uid_map, caller.uid, caller.privileged,
                              caller.sub_uids, limits);
    result.gid_map = plan_one("gid-map", "gid", cfg.gid_map, caller.gid, caller.privileged,
                              caller.sub_gids, limits);
    // Without CAP_SETGID on the host, the kernel takes gid_map only after
    // setgroups(2) is switched off for good: otherwise the container could
    // drop a group that a file's permissions deny it (CVE-2014-8989).
    // Root may leave setgroups allowed, so programs inside can use it.
    result.deny_setgroups = !caller.privileged;
    return result;
}

Plan plan(const Config& cfg) {
    return plan(cfg, Caller::current(), Limits::current());
}

void check(const Config& cfg, const Caller& caller, const Limits& limits) {
    // Without a user namespace, clone(2) would refuse with a bare EPERM.
    if (!caller.privileged && !cfg.has(Layer::user) && cfg.has(Layer::pid))
        throw UsageError(
            "making namespaces needs root; run as root (rootless containers "
            "come with lab 05: lab05_user --userns)");
    if (!cfg.has(Layer::user)) return;
    if (!caller.privileged) {
        const std::string rootless = " for a rootless container";
        if (!cfg.userns)
            throw UsageError("making namespaces needs root; run as root, or add --userns" +
                             rootless);
        if (cfg.has(Layer::net) && cfg.net == NetMode::bridge)
            throw UsageError(
                "--net bridge needs root (a veth on the host bridge nslab0); use "
                "--net none" +
                rootless);
        if (cfg.has(Layer::cgroup) && (cfg.memory || cfg.pids || cfg.cpus))
            throw UsageError(
                "--memory, --pids and --cpus need root (nslab makes its cgroup in "
                "the host's hierarchy, not a delegated one); leave them out" +
                rootless);
    }
    if (cfg.userns) plan(cfg, caller, limits);
}

void check(const Config& cfg) {
    if (!cfg.has(Layer::pid)) return;
    check(cfg, Caller::current(), Limits::current());
}

HostSwitches HostSwitches::current() {
    return {read_sysctl("/proc/sys/user/max_user_namespaces"),
            read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
            read_sysctl("/proc/sys/kernel/unprivileged_userns_clone")};
}

std::optional<std::string> explain_refusal(int error, const HostSwitches& host, bool privileged) {
    if (error == ENOSPC || error == EUSERS) {
        if (host.max_user_namespaces == 0)
            return "user namespaces are switched off here: user.max_user_namespaces is 0; "
                   "allow them with 'sysctl -w user.max_user_namespaces=15000' (as root; "
                   "a file in /etc/sysctl.d/ keeps it)";
        return "too many user namespaces: the limit user.max_user_namespaces (" +
               (host.max_user_namespaces ? std::to_string(*host.max_user_namespaces)
                                         : std::string("unknown")) +
               ") is reached, or 32 levels of nesting";
    }
    if ((error == EPERM || error == EACCES) && !privileged) {
        if (host.apparmor_restrict_unprivileged == 1)
            return "AppArmor forbids unprivileged user namespaces here "
                   "(kernel.apparmor_restrict_unprivileged_userns is 1, as on Ubuntu 24.04); "
                   "allow them with 'sudo sysctl -w "
                   "kernel.apparmor_restrict_unprivileged_userns=0', or give this program an "
                   "AppArmor profile with the 'userns,' rule";
        if (host.unprivileged_userns_clone == 0)
            return "this kernel forbids unprivileged user namespaces "
                   "(kernel.unprivileged_userns_clone is 0); allow them with 'sudo sysctl -w "
                   "kernel.unprivileged_userns_clone=1'";
        if (host.max_user_namespaces == 0)
            return "user namespaces are switched off here: user.max_user_namespaces is 0";
    }
    return std::nullopt;
}

std::string hint(const Config& cfg, int error) {
    if (!cfg.has(Layer::user) || !cfg.userns) return {};
    auto why = explain_refusal(error, HostSwitches::current(), Caller::current().privileged);
    return why ? "; " + *why : std::string();
}

void rethrow_explained(const Config& cfg, const std::system_error& e) {
    std::string why = hint(cfg, e.code().value());
    if (why.empty()) throw e;
    throw std::runtime_error(e.what() + why);
}

}  // namespace nslab::idmap

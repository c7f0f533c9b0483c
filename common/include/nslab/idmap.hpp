// The user namespace's plan: which uid/gid maps to write, whether setgroups
// must be denied first, and what a caller may ask for at all. Pure functions
// (unit-tested without root) plus two thin readers of the running system.
//
// The kernel's rules (user_namespaces(7), "Defining user and group ID
// mappings"): each map is written once, in one write(2) of less than a page;
// at most 340 lines (5 before Linux 4.15); no two lines may overlap inside
// or outside; a writer without CAP_SETUID (CAP_SETGID) in the parent
// namespace may write only one line mapping its own effective uid (gid),
// count 1, and for gid_map only after "deny" went to /proc/PID/setgroups.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "nslab/config.hpp"

namespace nslab::idmap {

// The user whose subordinate ids (/etc/subuid, /etc/subgid) a root
// caller's --userns maps by default; `./nslab setup` makes it.
inline constexpr const char* subordinate_user = "nslab";

// Who runs the runtime, as far as the maps care.
struct Caller {
    std::uint32_t uid = 0;    // effective uid: what an unprivileged map may name
    std::uint32_t gid = 0;    // effective gid
    bool privileged = false;  // CAP_SETUID, CAP_SETGID and CAP_SYS_ADMIN: root on the host
    // For a privileged caller: the subordinate_user's first ranges in
    // /etc/subuid and /etc/subgid (inside 0), the default maps of --userns.
    std::optional<IdMapEntry> sub_uids, sub_gids;
    static Caller current();  // geteuid(), getegid(), CapEff of /proc/self/status
};

// The first range of `user` in an /etc/subuid-style text ("name:first:count"
// lines; the name may be the user's number `uid`), as a map entry from 0
// inside; nothing when there is none.
std::optional<IdMapEntry> subordinate_range(std::string_view text, std::string_view user,
                                            std::uint32_t uid);

// The most lines a map may have on a kernel release such as "6.1.0-18-amd64".
std::size_t max_lines(std::string_view kernel_release);
std::size_t max_lines_of_running_kernel();

// "0 1000 1\n" per entry, as /proc/PID/uid_map takes it.
std::string text(const std::vector<IdMapEntry>& map);

// What the parent writes, in this order: uid_map, "deny" to setgroups when
// deny_setgroups, gid_map.
struct Plan {
    std::string uid_map;
    std::string gid_map;
    bool deny_setgroups = false;
};

struct Limits {
    std::size_t max_lines = 340;
    std::size_t page_size = 4096;  // a map is one write(2) of less than a page
    static Limits current();       // the running kernel's
};

// Checks --uid-map and --gid-map for this caller and returns what to write.
// Empty: 0:<caller's id>:1 for an unprivileged caller; for root, the
// subordinate range of subordinate_user, so that the container's root is
// never the host's (std::runtime_error when there is none). Throws
// UsageError naming the option.
Plan plan(const Config& cfg, const Caller& caller, const Limits& limits);
Plan plan(const Config& cfg);  // the running caller and kernel

// Refuses, before anything is made, what this lab cannot do for this
// caller: an unprivileged caller without --userns, or options that need
// privilege on the host (--net bridge, cgroup limits, time offsets) in a
// rootless run. Throws UsageError; then validates the maps with plan().
void check(const Config& cfg, const Caller& caller, const Limits& limits);
void check(const Config& cfg);

// The host's switches for unprivileged user namespaces (nothing when the
// kernel has no such sysctl).
struct HostSwitches {
    std::optional<long> max_user_namespaces;  // user.max_user_namespaces
    std::optional<long>
        apparmor_restrict_unprivileged;             // kernel.apparmor_restrict_unprivileged_userns
    std::optional<long> unprivileged_userns_clone;  // kernel.unprivileged_userns_clone (Debian)
    static HostSwitches current();
};

// Why clone(CLONE_NEWUSER) failed with `error`, and what to change; nothing
// when the switches do not explain it.
std::optional<std::string> explain_refusal(int error, const HostSwitches& host, bool privileged);

// For the orchestrator: "; <explanation>" to add to a failure with errno
// `error` when --userns is on and the host's switches explain it, else "".
// A refused clone(2) shows it at once; under Ubuntu's AppArmor rule the
// clone works and the child's first privileged step fails instead.
std::string hint(const Config& cfg, int error);
// Rethrows a failed clone(2) with hint() added.
[[noreturn]] void rethrow_explained(const Config& cfg, const std::system_error& e);

}  // namespace nslab::idmap

// Lab 07's plan: what to write to /proc/self/timens_offsets, and whether the
// kernel will take it. Pure, so it is unit-tested without root.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "nslab/config.hpp"

namespace nslab::time_plan {

// The kernel keeps every clock of a time namespace within [0, KTIME_SEC_MAX/2]
// seconds, KTIME_SEC_MAX being the largest ktime_t in seconds (INT64_MAX ns),
// halved so that adding an offset can never reach KTIME_MAX
// (kernel/time/namespace.c, proc_timens_set_offset).
inline constexpr std::int64_t max_clock_seconds = (INT64_MAX / 1'000'000'000) / 2;

// The whole offsets file, written in one write(2): "monotonic S 0\nboottime S 0\n".
std::string offsets_text(std::int64_t monotonic, std::int64_t boottime);

// Throws UsageError naming the option when `now + offset` leaves
// [0, max_clock_seconds]: the clock inside would run before boot or
// past the kernel's range (time_namespaces(7): ERANGE).
void check_offset(std::string_view option, std::int64_t offset, std::int64_t now_seconds);

// Both offsets of cfg against CLOCK_MONOTONIC and CLOCK_BOOTTIME now.
void check_offsets(const Config& cfg);

// Throws a runtime error that says so when the kernel has no time
// namespaces: `ns_dir` (normally /proc/self/ns) has no "time" link. They
// came in Linux 5.6 with CONFIG_TIME_NS.
void require_time_namespaces(const std::string& ns_dir = "/proc/self/ns");

// Both, before anything is made (the runtime's checks, in labs with the time
// layer).
void check(const Config& cfg);

// A namespace belongs to the user namespace of the process that makes it.
// With --userns the time namespace must be the container's: the child makes
// it, inside; otherwise the runtime does, before the clone.
inline bool made_by_child(const Config& cfg) {
    return cfg.userns;
}

}  // namespace nslab::time_plan

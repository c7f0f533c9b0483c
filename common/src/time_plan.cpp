#include "nslab/time_plan.hpp"

#include <time.h>

#include <stdexcept>

#include "nslab/errors.hpp"
#include "nslab/parse.hpp"
#include "nslab/sys.hpp"

namespace nslab::time_plan {

std::string offsets_text(std::int64_t monotonic, std::int64_t boottime) {
    return "monotonic " + std::to_string(monotonic) + " 0\nboottime " + std::to_string(boottime) +
           " 0\n";
}

void check_offset(std::string_view option, std::int64_t offset, std::int64_t now_seconds) {
    auto refuse = [&](const std::string& why) {
        parse::invalid(option, std::to_string(offset), why);
    };
    // Compare without overflow: offset may be near INT64_MIN or INT64_MAX.
    if (offset < -now_seconds)
        refuse("the clock would go before boot (it reads " + std::to_string(now_seconds) +
               " s now, so the offset must be at least -" + std::to_string(now_seconds) + ")");
    if (offset > max_clock_seconds - now_seconds)
        refuse("the clock would pass the kernel's limit of " + std::to_string(max_clock_seconds) +
               " s (KTIME_SEC_MAX/2)");
}

void check_offsets(const Config& cfg) {
    auto now = [](clockid_t clock, const char* name) {
        timespec ts{};
        sys::check(::clock_gettime(clock, &ts), std::string("clock_gettime(") + name + ")");
        return static_cast<std::int64_t>(ts.tv_sec);
    };
    check_offset("--monotonic-offset", cfg.monotonic_offset,
                 now(CLOCK_MONOTONIC, "CLOCK_MONOTONIC"));
    check_offset("--boottime-offset", cfg.boottime_offset, now(CLOCK_BOOTTIME, "CLOCK_BOOTTIME"));
}

void check(const Config& cfg) {
    check_offsets(cfg);
    require_time_namespaces();
}

void require_time_namespaces(const std::string& ns_dir) {
    if (sys::exists(ns_dir + "/time")) return;
    throw std::runtime_error("this kernel has no time namespaces (no " + ns_dir +
                             "/time): they need Linux 5.6 or later built with CONFIG_TIME_NS");
}

}  // namespace nslab::time_plan

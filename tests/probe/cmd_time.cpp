// Lab 07's probe subcommands: the time namespace as the process sees it.
#include <iostream>
#include <sstream>
#include <string>

#include "probe.hpp"

namespace {

// /proc/self/timens_offsets ("monotonic  3600  0") as "monotonic: 3600".
int cmd_offsets(const probe::Args&) {
    std::istringstream lines(probe::slurp("/proc/self/timens_offsets"));
    std::string clock;
    long long seconds = 0, nanoseconds = 0;
    while (lines >> clock >> seconds >> nanoseconds) std::cout << clock << ": " << seconds << "\n";
    return 0;
}

const probe::Register r_offsets("offsets", cmd_offsets,
                                "print our time namespace's offsets (seconds) per clock");

}  // namespace

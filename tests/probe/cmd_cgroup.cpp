// Lab 06's probe subcommands: things a cgroup limits (processes, memory,
// CPU time), each bounded so that a broken limit cannot hurt the host.
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "probe.hpp"

namespace {

using probe::Args;

double seconds_of(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// forkbomb N SECONDS: forks at most N children (each just waits), stopping
// at the first failure or after SECONDS; prints how far it got, then keeps
// the children until stdin closes, so the host can look at the cgroup.
int cmd_forkbomb(const Args& args) {
    const int limit = std::stoi(args.at(0));
    const double deadline = seconds_of(CLOCK_MONOTONIC) + std::stod(args.at(1));
    std::vector<pid_t> children;
    int error = 0;
    while (static_cast<int>(children.size()) < limit && seconds_of(CLOCK_MONOTONIC) < deadline) {
        pid_t pid = ::fork();
        if (pid == 0) {
            ::pause();
            ::_exit(0);
        }
        if (pid < 0) {
            error = errno;
            break;
        }
        children.push_back(pid);
    }
    std::printf("forked: %zu\nerror: %s\n", children.size(), error ? std::strerror(error) : "none");
    probe::hold();
    for (pid_t pid : children) ::kill(pid, SIGKILL);
    for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
    return 0;
}

// memhog MIB: touches MIB mebibytes, one at a time, and says how far it got.
int cmd_memhog(const Args& args) {
    const long mib = std::stol(args.at(0));
    constexpr size_t chunk = 1 << 20;
    for (long i = 0; i < mib; ++i) {
        void* p =
            ::mmap(nullptr, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            std::printf("mmap failed after %ld MiB: %s\n", i, std::strerror(errno));
            return 1;
        }
        std::memset(p, 0x5a, chunk);  // touched pages are what memory.max counts
        if (i % 16 == 0) std::printf("touched: %ld MiB\n", i);
        std::fflush(stdout);
    }
    std::printf("survived: %ld MiB\n", mib);
    return 0;
}

// busy SECONDS: spins for SECONDS of wall time and prints the CPU time it
// got, in milliseconds: "wall_ms: 2000" and "cpu_ms: 400" under --cpus 0.2.
int cmd_busy(const Args& args) {
    const double wall = std::stod(args.at(0));
    const double start = seconds_of(CLOCK_MONOTONIC);
    const double cpu_start = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
    volatile unsigned long spin = 0;
    while (seconds_of(CLOCK_MONOTONIC) - start < wall) spin = spin + 1;
    std::printf("wall_ms: %.0f\ncpu_ms: %.0f\n", (seconds_of(CLOCK_MONOTONIC) - start) * 1000,
                (seconds_of(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) * 1000);
    return 0;
}

// cgroup: what the container sees of its cgroup: /proc/self/cgroup as
// "self_cgroup: LINE" lines.
int cmd_cgroup(const Args&) {
    std::ifstream in("/proc/self/cgroup");
    for (std::string line; std::getline(in, line);) std::printf("self_cgroup: %s\n", line.c_str());
    return 0;
}

// cgwrite FILE VALUE: tries to write, prints "write: ok" or the error.
int cmd_cgwrite(const Args& args) {
    FILE* f = std::fopen(args.at(0).c_str(), "w");
    int error = f ? 0 : errno;
    if (f && (std::fputs(args.at(1).c_str(), f) < 0 || std::fflush(f) != 0)) error = errno;
    if (f) std::fclose(f);
    std::printf("write: %s\n", error ? std::strerror(error) : "ok");
    return 0;
}

const probe::Register r_forkbomb("forkbomb", cmd_forkbomb,
                                 "N S: fork up to N waiting children for at most S seconds, "
                                 "print 'forked: K', then hold");
const probe::Register r_memhog("memhog", cmd_memhog, "MIB: touch MIB mebibytes of memory");
const probe::Register r_busy("busy", cmd_busy, "S: spin S seconds, print wall_ms and cpu_ms");
const probe::Register r_cgroup("cgroup", cmd_cgroup,
                               "print /proc/self/cgroup as 'self_cgroup:' lines");
const probe::Register r_cgwrite("cgwrite", cmd_cgwrite,
                                "FILE VALUE: try to write VALUE to FILE, print the outcome");

}  // namespace

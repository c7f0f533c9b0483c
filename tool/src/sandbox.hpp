// Where a submission's code runs while it is graded: its own cgroup with a
// pids and a memory limit (v1 or v2, whichever the host has), a deadline,
// and, afterwards, nothing of it left running.
//
// The cgroup itself is made, killed and removed by the runtime's driver
// (nslab/cgroupfs.hpp, lab 06): here are only its name and limits.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tool {

// The parent of every submission's cgroup, at the top of each hierarchy.
inline constexpr const char* sandbox_cgroup_parent = "nslab-grading";

struct Limits {
    std::int64_t pids = 1024;         // pids.max
    std::int64_t memory = 4LL << 30;  // bytes: memory.max / memory.limit_in_bytes
};

class Sandbox {
  public:
    using Clock = std::chrono::steady_clock;

    // Makes the cgroup(s) `nslab-grading/NAME-PID` (this process's PID, so
    // `nslab cleanup` removes them once it is gone) when the host allows it.
    Sandbox(const std::string& name, Limits limits);
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;
    ~Sandbox();  // kills what is left, removes the cgroups

    // "cgroup v1 (pids 1024, memory 4 GiB)", or why there is none.
    const std::string& describe() const { return description_; }

    struct Outcome {
        int status = -1;  // wait status, when it ended by itself
        bool timed_out = false;
    };
    // Runs argv in the cgroup, stdin from /dev/null, stdout and stderr to
    // `log` (appended). Past `deadline` it is killed, with all it started.
    Outcome run(const std::vector<std::string>& argv, Clock::time_point deadline,
                const std::string& log, const std::string& directory = {});

    // Kills every process the submission left running (in the cgroup, or
    // orphaned to us as child subreaper) and returns their names, sorted.
    std::vector<std::string> kill_leftovers();

    // Whether a limit stopped something since the last call: "pids", "memory".
    std::vector<std::string> limits_hit();

  private:
    std::vector<pid_t> members() const;
    std::string path_;               // "/nslab-grading/NAME"; empty: no cgroup
    std::vector<std::string> dirs_;  // v2: the cgroup; v1: its pids, memory (and freezer) cgroups
    std::string description_;
    std::uint64_t pids_events_ = 0, oom_events_ = 0;
};

// Makes this process the child subreaper: an orphan of a graded process
// (a double-forked daemon) becomes our child instead of init's, so
// kill_leftovers() finds it even outside any cgroup.
void become_subreaper();

}  // namespace tool

// The cgroup v1 half of lab 06, done for the student, who writes the v2 half
// (labs/lab06_cgroup/cgroup.cpp): on a v1 host each phase of the layer hands
// over to these. Read it as the contrast: one tree per controller, no
// subtree_control, no CLONE_INTO_CGROUP, no cgroup.kill.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nslab/cgroup_plan.hpp"
#include "nslab/config.hpp"
#include "nslab/fd.hpp"

namespace nslab::cgroupfs::v1 {

// The container's cgroup `path` in every hierarchy, with its limits.
void create(const Host& host, const std::string& path, const Config& cfg);
// Each hierarchy's `tasks` file of the cgroup, open for writing, for the
// child to move itself in (join).
std::vector<Fd> open_tasks(const Host& host, const std::string& path);
// In the child, first thing: moves itself into each, and closes them.
void join(std::vector<Fd>& tasks);
// A read-only tmpfs at `target` holding the hierarchies, each mounted
// read-only (call it inside a new cgroup namespace: each shows our cgroup as /).
void mount_readonly(const Host& host, const std::string& target);
std::uint64_t oom_kills(const Host& host, const std::string& path);  // memory.oom_control
// Removing it is cgroupfs::remove (the driver's, for both versions).

}  // namespace nslab::cgroupfs::v1

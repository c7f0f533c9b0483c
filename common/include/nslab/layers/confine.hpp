// Lab 11: confinement. The container keeps what it needs and nothing that
// reaches the host: Docker's capabilities, no_new_privs, a seccomp filter,
// masked and read-only paths.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "nslab/capabilities.hpp"
#include "nslab/config.hpp"
#include "nslab/confine_plan.hpp"

namespace nslab::confine {

// Parent side, once the container's cgroup `cgroup_path` exists and before
// the child does: only Docker's devices open in it (given code, no TODO).
void before_clone(const Config& cfg, const std::string& cgroup_path);

// Child side, in the container's root once /proc and /sys are mounted:
// what confine_plan::masked_paths(cfg) names shows nothing, and
// confine_plan::read_only_paths(cfg) cannot be written (Docker's lists, or
// an OCI bundle's own).
void mask_paths(const Config& cfg);

// The one rule of the filter the given table cannot say: clone(2) with a
// namespace flag is refused, unless `caps` holds CAP_SYS_ADMIN.
void add_clone_rule(confine_plan::Filter& filter, const std::vector<caps::Cap>& caps);

// Child side, the last of the set-up before exec: the capability sets
// dropped to `caps`, kept across become_user() (which changes the uid, as
// the image's User says), no_new_privs unless --no-new-privs=false, and
// `filter` loaded (nullptr: --seccomp unconfined).
void drop_privileges(const Config& cfg, const std::vector<caps::Cap>& caps,
                     const confine_plan::Filter* filter, const std::function<void()>& become_user);

}  // namespace nslab::confine

// Lab 06: placeholder until this lab is written (see the issue tracker).
#include "nslab/layers/cgroup.hpp"

#include "nslab/errors.hpp"

namespace nslab::cgroup {

State before_clone(const Config& cfg) {
    if (!cfg.has(Layer::cgroup)) return {};
    throw NotImplemented("lab06_cgroup", 1, "cgroups(7)");
}

void in_parent(const Config& cfg, State& state, pid_t child) {
    (void)child;
    if (!cfg.has(Layer::cgroup) || state.path.empty()) return;
    throw NotImplemented("lab06_cgroup", 2, "cgroups(7)");
}

void in_child(const Config& cfg) {
    if (!cfg.has(Layer::cgroup)) return;
    throw NotImplemented("lab06_cgroup", 3, "cgroup_namespaces(7)");
}

int after_exit(const Config& cfg, State& state, int status) {
    if (!cfg.has(Layer::cgroup) || state.path.empty()) return status;
    throw NotImplemented("lab06_cgroup", 4, "cgroups(7)");
}

}  // namespace nslab::cgroup

// Lab 04: placeholder until this lab is written (see the issue tracker).
#include "nslab/layers/net.hpp"

#include "nslab/errors.hpp"

namespace nslab::net {

unsigned long clone_flags(const Config& cfg) {
    if (!cfg.has(Layer::net)) return 0;
    throw NotImplemented("lab04_net", 1, "network_namespaces(7)");
}

State in_parent(const Config& cfg, pid_t child) {
    (void)child;
    if (!cfg.has(Layer::net)) return {};
    throw NotImplemented("lab04_net", 2, "veth(4)");
}

void in_child(const Config& cfg) {
    if (!cfg.has(Layer::net)) return;
    throw NotImplemented("lab04_net", 3, "rtnetlink(7)");
}

void after_exit(const Config& cfg, State& state) {
    if (!cfg.has(Layer::net) || state.host_veth.empty()) return;
    throw NotImplemented("lab04_net", 4, "veth(4)");
}

}  // namespace nslab::net

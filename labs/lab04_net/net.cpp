// Lab 04: the network namespace. A new one holds nothing but a loopback
// device that is down; everything else is plugged in from outside: a veth
// pair (a virtual cable) with one end in the container and the other on a
// bridge in the host's namespace (docker0 in Docker, nslab0 here).
//
// Your tools: nslab/netlink.hpp (one call per rtnetlink request),
// nslab/net_plan.hpp (names: bridge_name, container_link, host_veth_name),
// and State::lease (the container's address and the gateway).
// Handout: labs/lab04_net/README.md.
#include "nslab/layers/net.hpp"

#include <sched.h>

#include "nslab/errors.hpp"
#include "nslab/net_plan.hpp"
#include "nslab/netlink.hpp"

namespace nslab::net {

namespace {
bool bridged(const Config& cfg) {
    return cfg.has(Layer::net) && cfg.net == NetMode::bridge;
}
}  // namespace

unsigned long clone_flags(const Config& cfg) {
    if (!cfg.has(Layer::net)) return 0;
    // TODO step 1: return the clone(2) flag that gives the child its own
    // network namespace (network_namespaces(7)).
    throw NotImplemented("lab04_net", 1, "network_namespaces(7)");
}

// Given: the address is chosen before clone, so the child has it in its copy
// of the runtime's memory (see net_host.hpp for why a lease is race-free).
State before_clone(const Config& cfg) {
    if (!bridged(cfg)) return {};
    return {take_lease(cfg), {}};
}

void in_parent(const Config& cfg, State& state, pid_t child) {
    if (!bridged(cfg)) return;
    (void)state;
    (void)child;
    // TODO step 3: in the host's namespace, with a netlink::Socket opened here
    // and a HostLock(HostLock::Mode::shared) held (so `nslab cleanup` leaves
    // the bridge alone meanwhile):
    //   3a. add_bridge(net_plan::bridge_name), give it state.lease.gateway(),
    //       set it up;
    //   3b. add_veth_pair(host end net_plan::host_veth_name(cfg.id), peer
    //       net_plan::container_link, made in the namespace of `child`), then
    //       record the host end in state.host_veth at once;
    //   3c. set_master(host end, bridge) and set the host end up.
    throw NotImplemented("lab04_net", 3, "veth(4), ip-link(8)");
}

void in_child(const Config& cfg, const State& state) {
    if (!cfg.has(Layer::net)) return;
    (void)state;
    // TODO step 2: open a netlink::Socket here, in the child (it talks to the
    // namespace it is opened in) and set "lo" up: it starts down.
    // TODO step 4 (only when bridged(cfg)): on net_plan::container_link add
    // state.lease.address(), set it up, then add_default_route via
    // state.lease.gateway().address. Why this order? See the handout.
    throw NotImplemented("lab04_net", 2, "rtnetlink(7), ip-link(8)");
}

void after_exit(const Config& cfg, State& state) {
    if (!cfg.has(Layer::net)) return;
    // TODO step 5: if state.host_veth is set, delete that link (a veth pair
    // dies with either end) and clear it. Then the address is given back,
    // below: not before, or a new container could take it while our pair
    // still holds it.
    if (!state.host_veth.empty()) throw NotImplemented("lab04_net", 5, "veth(4)");
    state.lease.release();
}

}  // namespace nslab::net

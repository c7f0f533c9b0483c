// Lab 04: the network namespace. A new one holds nothing but a loopback
// device that is down; everything else is plugged in from outside: a veth
// pair (a virtual cable) with one end in the container and the other on a
// bridge in the host's namespace (docker0 in Docker, nslab0 here).
#include "nslab/layers/net.hpp"

#include <sched.h>

#include "nslab/net_plan.hpp"
#include "nslab/netlink.hpp"

namespace nslab::net {

// Step 1. network_namespaces(7): the child gets its own interfaces, routes,
// firewall and port numbers.
unsigned long clone_flags() {
    return CLONE_NEWNET;
}

// Step 3, in the host's namespace: the child exists, so its namespace does.
void in_parent(const Config& cfg, State& state, pid_t child) {
    if (!bridged(cfg)) return;
    netlink::Socket nl;  // talks to the namespace we are in: the host's
    const std::string bridge(net_plan::bridge_name);
    HostLock busy(HostLock::Mode::shared);  // `nslab cleanup` must not remove the bridge now
    // 3a. The bridge is a switch in the kernel; its address is the
    // containers' gateway. The first container makes it.
    netlink::add_bridge(nl, bridge);
    netlink::add_address(nl, bridge, state.lease.gateway());
    netlink::set_up(nl, bridge);
    // 3b. Both ends of a veth pair are made in one request; the peer is made
    // directly in the child's namespace (IFLA_NET_NS_PID), already named
    // eth0: it never exists in the host's namespace, so no name clash there.
    const std::string host_veth = net_plan::host_veth_name(cfg.id);
    netlink::add_veth_pair(nl, host_veth, std::string(net_plan::container_link), child);
    state.host_veth = host_veth;  // from here on, after_exit removes it
    // 3c. Plug the host end into the bridge and switch it on.
    netlink::set_master(nl, host_veth, bridge);
    netlink::set_up(nl, host_veth);
}

// Steps 2 and 4, in the child, inside its new namespace (before pivot_root,
// which does not matter to netlink).
void in_child(const Config& cfg, const State& state) {
    netlink::Socket nl;  // opened in the child: talks to the container's namespace
    // Step 2. A new namespace's lo is down: even 127.0.0.1 is unreachable.
    netlink::set_up(nl, "lo");
    if (!bridged(cfg)) return;
    // Step 4. eth0 arrived from the parent, with no address and down. The
    // address brings the subnet's route; the default route goes via the bridge.
    const std::string eth0(net_plan::container_link);
    netlink::add_address(nl, eth0, state.lease.address());
    netlink::set_up(nl, eth0);
    netlink::add_default_route(nl, state.lease.gateway().address);
}

// Step 5. The pair dies with the container's namespace, but only when the
// last reference to that namespace goes, which can be much later (a bind
// mount by `ip netns`, a process that joined it) and is asynchronous anyway:
// remove the host end now. Then give the address back.
void after_exit(State& state) {
    if (!state.host_veth.empty()) {
        netlink::Socket nl;
        netlink::delete_link(nl, state.host_veth);
        state.host_veth.clear();
    }
    state.lease.release();
}

}  // namespace nslab::net

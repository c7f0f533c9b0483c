// Lab 04: the network namespace. A new one holds nothing but a loopback
// device that is down; everything else is plugged in from outside: a veth
// pair (a virtual cable) with one end in the container and the other on a
// bridge in the host's namespace (docker0 in Docker, nslab0 here). Part
// two: the host's firewall takes the container's packets out to the world
// and brings published ports in (Docker's NAT rules, in nftables).
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

// Step 6. The rules, in the host's table `ip nslab` (the runtime adds them
// before clone, tagged with the container's id, and the forward chain's
// accepts: nat_plan.hpp). Each rule is a chain (a hook on the packet's
// path) and what it says in nft's language: matches, then a statement.
std::vector<nat_plan::Rule> nat_rules(const Config& cfg, const State& state) {
    const std::string me = net_plan::address_text(state.lease.address().address);
    const std::string bridge(net_plan::bridge_name);
    // 6a. Out. The outside world has no route back to 10.88.0.0/16, so what
    // leaves the host by any link but the bridge gets the host's address on
    // that link as its source: masquerade, which takes that link's address
    // when the packet leaves (a laptop's changes). Conntrack remembers the
    // change and undoes it on the answers. Postrouting: the last hook,
    // once routing has chosen the outgoing link.
    std::vector<nat_plan::Rule> rules{
        {"postrouting", "ip saddr " + me + " oifname != \"" + bridge + "\" masquerade", {}}};
    // 6b. In. A packet for one of the host's own addresses on HOSTPORT gets
    // the container's address and port as destination, before routing
    // decides where it goes: prerouting for what arrives from outside,
    // output for what the host itself sends (locally made packets never
    // pass prerouting).
    for (const PortMapping& p : cfg.publish) {
        const std::string dnat = std::string("fib daddr type local ") + (p.udp ? "udp" : "tcp") +
                                 " dport " + std::to_string(p.host) + " dnat to " + me + ":" +
                                 std::to_string(p.container);
        rules.push_back({"prerouting", dnat, p});
        rules.push_back({"output", dnat, p});
    }
    return rules;
}

// Step 5. The pair dies with the container's namespace, but only when the
// last reference to that namespace goes, which can be much later (a bind
// mount by `ip netns`, a process that joined it) and is asynchronous anyway:
// remove the host end now. The rules do not die with anything: take this
// container's out of the table (6c). Nor do the host's conntrack entries of
// its connections (6d): each lives until its timeout (days for an
// established TCP one), and NAT is decided once per connection, on its
// first packet, so a datagram that matches an old entry is still sent to
// this address, to whoever holds it next. Forget them while the address is
// still ours; then give it back.
void after_exit(State& state) {
    if (!state.host_veth.empty()) {
        netlink::Socket nl;
        netlink::delete_link(nl, state.host_veth);
        state.host_veth.clear();
    }
    remove_nat(state);
    if (state.lease) forget_connections(state.lease.address().address);
    state.lease.release();
}

}  // namespace nslab::net

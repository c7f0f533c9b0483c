// Lab 04: the network namespace. A new one holds nothing but a loopback
// device that is down; everything else is plugged in from outside: a veth
// pair (a virtual cable) with one end in the container and the other on a
// bridge in the host's namespace (docker0 in Docker, nslab0 here).
//
// Your tools: nslab/netlink.hpp (one call per rtnetlink request),
// nslab/net_plan.hpp (names: bridge_name, container_link, host_veth_name),
// nslab/nat_plan.hpp (a rule: chain and text) and State::lease (the
// container's address and the gateway).
// Handout: labs/lab04_net/README.md.
#include "nslab/layers/net.hpp"

#include <sched.h>

#include "nslab/errors.hpp"
#include "nslab/net_plan.hpp"
#include "nslab/netlink.hpp"

namespace nslab::net {

unsigned long clone_flags() {
    // TODO step 1: the child gets a network stack of its own
    // (man 7 network_namespaces). What does a new one hold?
    throw NotImplemented("lab04_net", 1, "man 7 network_namespaces");
}

void in_parent(const Config& cfg, State& state, pid_t child) {
    if (!bridged(cfg)) return;
    (void)state;
    (void)child;
    // TODO step 3: from the host's namespace, while holding the host lock
    // shared: the bridge exists with the gateway address and is up; a veth
    // pair joins it, its host end recorded in the state at once, its peer
    // made directly in the child's namespace as the container's link
    // (man 4 veth, man 7 rtnetlink). Why can this not happen before clone?
    throw NotImplemented("lab04_net", 3, "man 4 veth, ip-man 8 link");
}

void in_child(const Config& cfg, const State& state) {
    (void)cfg;
    (void)state;
    // TODO step 2: loopback works inside the container (man 7 rtnetlink).
    // Which namespace does a netlink socket talk to?
    // TODO step 4: when bridged, the container's link has its leased
    // address, is up, and the default route goes via the gateway
    // (ip-man 8 route). Why must the address come before the route?
    throw NotImplemented("lab04_net", 2, "man 7 rtnetlink, ip-man 8 link");
}

std::vector<nat_plan::Rule> nat_rules(const Config& cfg, const State& state) {
    (void)cfg;
    (void)state;
    // TODO step 6a: what the container sends to an address beyond the host
    // leaves with the host's address on the outgoing link as its source,
    // and only what leaves by a link other than the bridge (man 8 nft:
    // STATEMENTS, NAT). Which hook has chosen the outgoing link already?
    // Why not a fixed source address?
    // TODO step 6b: for each --publish (cfg.publish), a packet to one of
    // the host's own addresses on the host port reaches the container's
    // address and port, whether it comes from outside or from the host
    // itself (man 8 nft: FIB EXPRESSIONS; the netfilter hooks). Which hook
    // does a packet the host sends itself never pass?
    // Each rule: its chain and its text, without a comment (nat_plan.hpp).
    throw NotImplemented("lab04_net", 6, "man 8 nft");
}

void after_exit(State& state) {
    // TODO step 5: the host end made in step 3 is gone, and the state says
    // so, before the address is given back below (man 4 veth). Why not wait
    // for the namespace to die?
    if (!state.host_veth.empty()) throw NotImplemented("lab04_net", 5, "man 4 veth");
    // TODO step 6c: this container's rules are out of the host's table
    // (net.hpp says what is given; man 8 nft). What removes them if nobody
    // does?
    if (!state.nat_id.empty()) throw NotImplemented("lab04_net", 6, "man 8 nft");
    // TODO step 6d: the host's conntrack table holds no entry of this
    // container's address any more, before the address is given back
    // (net.hpp says what is given; man 8 conntrack). What would the next
    // container with this address get otherwise?
    if (state.lease) throw NotImplemented("lab04_net", 6, "man 8 conntrack");
    state.lease.release();
}

}  // namespace nslab::net

// Lab 04: the network namespace, loopback, a veth pair and the host bridge.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nslab/config.hpp"
#include "nslab/nat_plan.hpp"
#include "nslab/net_host.hpp"

namespace nslab::net {

// The container's address (taken before clone, so the child knows it) and
// what the parent made on the host side, to undo after exit.
struct State {
    Lease lease;            // empty: --net none or the layer is off
    std::string host_veth;  // empty: nothing made
    std::string nat_id;     // empty: no rules of this container in the table ip nslab
    std::string files_dir;  // its /etc/hosts and resolv.conf in the runtime's state
};

unsigned long clone_flags();  // CLONE_NEWNET (called only when the lab has the layer)
// Given (common/src/net_host.cpp, not the lab's to write): the address is
// chosen before clone, so the child has it in its copy of the runtime's
// memory (see net_host.hpp for why a lease is race-free).
State before_clone(const Config& cfg);                         // an address lease (--net bridge)
void in_parent(const Config& cfg, State& state, pid_t child);  // bridge, veth pair, one end inside
void in_child(const Config& cfg, const State& state);          // lo up; eth0 address and route
void after_exit(State& state);  // remove the host end, the rules, the lease

// Step 6 (part two): this container's rules in the host's table `ip nslab`:
// the way out (source NAT) and the way in (--publish, destination NAT).
std::vector<nat_plan::Rule> nat_rules(const Config& cfg, const State& state);
// Given (net_host.cpp): before clone, under the host lock, `rules` (the
// orchestrator passes nat_rules()) and the forward chain's rules for this
// container go into the table (made if missing, forwarding switched on),
// tagged with its id; a host port another container publishes is refused
// (UsageError). remove_nat() takes exactly this container's rules out
// again, and the last one out the table.
void add_nat(const Config& cfg, State& state, std::vector<nat_plan::Rule> rules);
void remove_nat(State& state);
// Given: the entries of the conntrack table of the namespace we are in
// (conntrack(8); the host's) that have `address` at one end, in either
// direction, deleted through ctnetlink; returns how many. An empty table
// costs one read of nf_conntrack_count and no netlink request. A failure
// (a kernel without ctnetlink) is said on stderr, not thrown.
std::size_t forget_connections(std::uint32_t address);

// Given: the container's /etc/hosts and /etc/resolv.conf, written before
// clone into files_dir (/run/nslab/files/<id>), never into the rootfs, and
// bind-mounted over the rootfs's own in the child once it has pivoted
// (open_name_files() before, while the host's /run is reachable).
// remove_name_files() at exit; `nslab cleanup` removes a killed runtime's.
void write_name_files(const Config& cfg, State& state);
struct NameFiles {
    Fd hosts, resolv_conf;  // detached bind mounts (open_tree), made before pivot_root
};
NameFiles open_name_files(const State& state);
void bind_name_files(const NameFiles& files);
void remove_name_files(State& state);

}  // namespace nslab::net

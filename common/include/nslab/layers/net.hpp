// Lab 04: the network namespace, loopback, a veth pair and the host bridge.
#pragma once

#include <sys/types.h>

#include <string>

#include "nslab/config.hpp"
#include "nslab/net_host.hpp"

namespace nslab::net {

// The container's address (taken before clone, so the child knows it) and
// what the parent made on the host side, to undo after exit.
struct State {
    Lease lease;            // empty: --net none or the layer is off
    std::string host_veth;  // empty: nothing made
};

unsigned long clone_flags();  // CLONE_NEWNET (called only when the lab has the layer)
// Given (common/src/net_host.cpp, not the lab's to write): the address is
// chosen before clone, so the child has it in its copy of the runtime's
// memory (see net_host.hpp for why a lease is race-free).
State before_clone(const Config& cfg);                         // an address lease (--net bridge)
void in_parent(const Config& cfg, State& state, pid_t child);  // bridge, veth pair, one end inside
void in_child(const Config& cfg, const State& state);          // lo up; eth0 address and route
void after_exit(State& state);                                 // remove the host end, the lease

}  // namespace nslab::net

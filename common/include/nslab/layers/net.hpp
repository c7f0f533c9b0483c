// Lab 04: the network namespace, loopback, a veth pair and the host bridge.
#pragma once

#include <sys/types.h>

#include <string>

#include "nslab/config.hpp"

namespace nslab::net {

// What the parent made on the host side, to undo after exit.
struct State {
    std::string host_veth;  // empty: nothing made
};

unsigned long clone_flags(const Config& cfg);      // CLONE_NEWNET when the layer is on
State in_parent(const Config& cfg, pid_t child);   // bridge, veth pair, one end into the child
void in_child(const Config& cfg);                  // lo up; eth0 address and default route
void after_exit(const Config& cfg, State& state);  // remove the host end

}  // namespace nslab::net

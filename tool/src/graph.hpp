// nslab graph: draw the live system's namespaces (see nslab/ns_graph.hpp).
#pragma once

#include <string>
#include <vector>

#include "nslab/ns_graph.hpp"

namespace tool {

// Reads /proc (and, as root, each network namespace's links over netlink).
nslab::ns_graph::Snapshot take_snapshot();

// nslab graph [--format dot|svg|png] [--type pid,net,...] [--pid PID] [--output FILE]
int graph(const std::vector<std::string>& args);

}  // namespace tool

// `nslab graph`: the live system's namespaces as a Graphviz graph. A snapshot
// of /proc is taken by the tool (tool/src/graph.cpp); turning it into DOT is
// a pure function, unit-tested on hand-made snapshots.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace nslab::ns_graph {

// The namespace types the graph knows, as /proc/PID/ns names them.
inline constexpr std::string_view graph_types[] = {"pid", "user", "net",    "mnt",
                                                   "uts", "ipc",  "cgroup", "time"};

struct Process {
    pid_t pid = 0;
    pid_t ppid = 0;
    std::string name;
    std::vector<pid_t> nspid;         // NSpid: outermost first
    std::map<std::string, ino_t> ns;  // type -> inode; missing when unknown
};

struct Interface {
    int ifindex = 0;
    int iflink = 0;  // the peer's ifindex for a veth (in the peer's namespace)
    int master = 0;  // the bridge it is plugged into, 0 if none
    std::string name;
    std::string kind;  // "veth", "bridge", ... ("" for a plain device)
};

struct Snapshot {
    std::vector<Process> processes;
    pid_t init_pid = 1;                                  // whose namespaces count as the host's
    std::map<ino_t, ino_t> owner;                        // namespace inode -> owning user ns inode
    std::map<ino_t, ino_t> parent;                       // pid/user ns inode -> parent (same type)
    std::map<ino_t, std::vector<Interface>> interfaces;  // net ns inode -> its links
};

struct Options {
    std::vector<std::string> types{graph_types, graph_types + std::size(graph_types)};
    pid_t focus = 0;  // --pid: only the processes in this one's PID namespace (and below)
};

// "pid,net" -> {"pid", "net"}; throws std::invalid_argument naming a bad type.
std::vector<std::string> parse_types(std::string_view text);

// The DOT text: one cluster per namespace type, inside it one cluster per
// namespace (PID and user namespaces nested under their parents), each
// process once per type. Processes outside the host's PID namespace are
// filled (containers); their label shows NSpid as "host/inner".
std::string to_dot(const Snapshot& snapshot, const Options& options);

// "4231/6/1" for NSpid {4231, 6, 1}.
std::string pid_label(const std::vector<pid_t>& nspid, pid_t pid);

}  // namespace nslab::ns_graph

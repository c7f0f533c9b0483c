#include "nslab/ns_graph.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

namespace nslab::ns_graph {

namespace {

std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '\n') {
            out += "\\n";  // a line break in a DOT label
            continue;
        }
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string ns_text(std::string_view type, ino_t inode) {
    return std::string(type) + ":[" + std::to_string(inode) + "]";
}
std::string ns_node(std::string_view type, ino_t inode) {
    return "ns_" + std::string(type) + "_" + std::to_string(inode);
}
std::string process_node(std::string_view type, pid_t pid) {
    return std::string(type) + "_p" + std::to_string(pid);
}
std::string link_node(ino_t netns, int ifindex) {
    return "if_" + std::to_string(netns) + "_" + std::to_string(ifindex);
}

ino_t ns_of(const Process& process, const std::string& type) {
    auto it = process.ns.find(type);
    return it == process.ns.end() ? 0 : it->second;
}

// True when `ns` is `ancestor` or lies below it in the parent map.
bool is_within(ino_t ns, ino_t ancestor, const std::map<ino_t, ino_t>& parent) {
    for (int depth = 0; ns != 0 && depth < 64; ++depth) {  // PID/user ns nest at most 32 deep
        if (ns == ancestor) return true;
        auto it = parent.find(ns);
        ns = it == parent.end() ? 0 : it->second;
    }
    return false;
}

// The processes to draw: all, or with --pid those in its PID namespace and below.
std::vector<const Process*> selected(const Snapshot& snapshot, const Options& options) {
    std::vector<const Process*> out;
    ino_t focus_ns = 0;
    if (options.focus != 0) {
        auto it = std::find_if(snapshot.processes.begin(), snapshot.processes.end(),
                               [&](const Process& p) { return p.pid == options.focus; });
        if (it == snapshot.processes.end())
            throw std::invalid_argument("no process " + std::to_string(options.focus));
        focus_ns = ns_of(*it, "pid");
    }
    for (const auto& process : snapshot.processes)
        if (focus_ns == 0 || is_within(ns_of(process, "pid"), focus_ns, snapshot.parent))
            out.push_back(&process);
    std::sort(out.begin(), out.end(),
              [](const Process* a, const Process* b) { return a->pid < b->pid; });
    return out;
}

class Writer {
  public:
    Writer(const Snapshot& snapshot, const Options& options)
        : snapshot_(snapshot), shown_(selected(snapshot, options)) {
        for (const auto& process : snapshot.processes)
            if (process.pid == snapshot.init_pid) host_ = process.ns;
    }

    std::string write(const Options& options) {
        out_ << "digraph nslab {\n"
             << "    graph [rankdir=LR, compound=true, fontname=\"Helvetica\", fontsize=12, "
                "labelloc=t, label=\"namespaces of the live system (nslab graph)\"];\n"
             << "    node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", "
                "fontname=\"Helvetica\", fontsize=10];\n"
             << "    edge [fontname=\"Helvetica\", fontsize=9];\n";
        for (const auto& type : options.types) type_cluster(type);
        edges(options);
        out_ << "}\n";
        return out_.str();
    }

  private:
    bool is_host(const std::string& type, ino_t ns) const {
        auto it = host_.find(type);
        return it != host_.end() && it->second == ns;
    }
    bool in_container(const Process& p) const { return !is_host("pid", ns_of(p, "pid")); }

    void type_cluster(const std::string& type) {
        // namespace inode -> its processes, for the namespaces shown.
        std::map<ino_t, std::vector<const Process*>> members;
        for (const Process* p : shown_)
            if (ino_t ns = ns_of(*p, type)) members[ns].push_back(p);
        if (members.empty()) return;
        shown_ns_[type] = {};
        for (const auto& [ns, unused] : members) shown_ns_[type].insert(ns);

        // PID and user namespaces nest: draw children inside their parent.
        bool nests = type == "pid" || type == "user";
        std::map<ino_t, std::vector<ino_t>> kids;
        std::vector<ino_t> roots;
        for (const auto& [ns, unused] : members) {
            auto up = snapshot_.parent.find(ns);
            if (nests && up != snapshot_.parent.end() && members.count(up->second))
                kids[up->second].push_back(ns);
            else
                roots.push_back(ns);
        }
        out_ << "    subgraph " << quoted("cluster_" + type) << " {\n"
             << "        label=" << quoted(type + " namespaces") << "; style=rounded;\n";
        std::function<void(ino_t, int)> one = [&](ino_t ns, int depth) {
            std::string pad(8 + 4 * depth, ' ');
            bool host = is_host(type, ns);
            out_ << pad << "subgraph " << quoted("cluster_" + type + "_" + std::to_string(ns))
                 << " {\n"
                 << pad << "    label=" << quoted(ns_text(type, ns) + (host ? " host" : ""))
                 << "; style=\"rounded,filled\"; fillcolor=" << quoted(host ? "#eef3fb" : "#e6f4e6")
                 << ";\n";
            out_ << pad << "    " << ns_node(type, ns)
                 << " [shape=plaintext, style=\"\", label=" << quoted(ns_text(type, ns)) << "];\n";
            for (const Process* p : members[ns]) {
                out_ << pad << "    " << process_node(type, p->pid)
                     << " [label=" << quoted(p->name + "\n" + pid_label(p->nspid, p->pid));
                if (in_container(*p)) out_ << ", fillcolor=\"#fff2cc\", penwidth=2";
                out_ << "];\n";
            }
            if (type == "net") interfaces(ns, pad + "    ");
            for (ino_t kid : kids[ns]) one(kid, depth + 1);
            out_ << pad << "}\n";
        };
        for (ino_t root : roots) one(root, 0);
        out_ << "    }\n";
    }

    void interfaces(ino_t netns, const std::string& pad) {
        auto it = snapshot_.interfaces.find(netns);
        if (it == snapshot_.interfaces.end()) return;
        for (const auto& link : it->second) {
            if (link.name == "lo") continue;
            out_ << pad << link_node(netns, link.ifindex) << " [shape=cds, fillcolor=\"#f8cecc\", "
                 << "label="
                 << quoted(link.name + (link.kind.empty() ? "" : " (" + link.kind + ")")) << "];\n";
        }
    }

    bool shown(const std::string& type, ino_t ns) const {
        auto it = shown_ns_.find(type);
        return it != shown_ns_.end() && it->second.count(ns);
    }

    void edges(const Options& options) {
        for (const auto& type : options.types) {
            if (!shown_ns_.count(type)) continue;
            for (ino_t ns : shown_ns_[type]) {
                auto owner = snapshot_.owner.find(ns);
                if (type != "user" && owner != snapshot_.owner.end() &&
                    !is_host("user", owner->second) && shown("user", owner->second))
                    out_ << "    " << ns_node(type, ns) << " -> " << ns_node("user", owner->second)
                         << " [style=dashed, color=\"#9673a6\", label=\"owned by\"];\n";
            }
        }
        if (shown_ns_.count("net")) links();
    }

    // veth peers: an interface whose iflink is the ifindex of an interface
    // (in any namespace) whose iflink points back. Bridge ports: `master`.
    void links() {
        struct End {
            ino_t ns;
            const Interface* link;
        };
        std::vector<End> ends;
        for (ino_t ns : shown_ns_["net"]) {
            auto it = snapshot_.interfaces.find(ns);
            if (it == snapshot_.interfaces.end()) continue;
            for (const auto& link : it->second) ends.push_back({ns, &link});
        }
        for (const End& a : ends) {
            if (a.link->master != 0)
                out_ << "    " << link_node(a.ns, a.link->ifindex) << " -> "
                     << link_node(a.ns, a.link->master) << " [label=\"bridge port\"];\n";
            if (a.link->kind != "veth") continue;
            for (const End& b : ends) {
                bool same = a.ns == b.ns && a.link->ifindex == b.link->ifindex;
                if (same || b.link->kind != "veth" || b.link->ifindex != a.link->iflink ||
                    b.link->iflink != a.link->ifindex)
                    continue;
                if (std::make_pair(a.ns, a.link->ifindex) < std::make_pair(b.ns, b.link->ifindex))
                    out_ << "    " << link_node(a.ns, a.link->ifindex) << " -> "
                         << link_node(b.ns, b.link->ifindex)
                         << " [dir=none, penwidth=2, color=\"#b85450\", label=\"veth\"];\n";
            }
        }
    }

    const Snapshot& snapshot_;
    std::vector<const Process*> shown_;
    std::map<std::string, ino_t> host_;
    std::map<std::string, std::set<ino_t>> shown_ns_;
    std::ostringstream out_;
};

}  // namespace

std::vector<std::string> parse_types(std::string_view text) {
    std::vector<std::string> types;
    std::istringstream in{std::string(text)};
    for (std::string type; std::getline(in, type, ',');) {
        if (std::find(std::begin(graph_types), std::end(graph_types), type) ==
            std::end(graph_types))
            throw std::invalid_argument("unknown namespace type '" + type +
                                        "' (expected pid, user, net, mnt, uts, ipc, cgroup, time)");
        if (std::find(types.begin(), types.end(), type) == types.end()) types.push_back(type);
    }
    if (types.empty()) throw std::invalid_argument("no namespace type given");
    return types;
}

std::string pid_label(const std::vector<pid_t>& nspid, pid_t pid) {
    if (nspid.empty()) return std::to_string(pid);
    std::string label;
    for (pid_t n : nspid) label += (label.empty() ? "" : "/") + std::to_string(n);
    return label;
}

std::string to_dot(const Snapshot& snapshot, const Options& options) {
    return Writer(snapshot, options).write(options);
}

}  // namespace nslab::ns_graph

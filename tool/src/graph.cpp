// nslab graph: a snapshot of /proc turned into DOT, rendered by Graphviz.
//
// Ownership and nesting come from the namespace files themselves: ioctl(2)
// NS_GET_USERNS names the user namespace that owns a namespace, NS_GET_PARENT
// the parent of a PID or user namespace (ioctl_ns(2)). A network namespace's
// links are listed over a netlink socket made inside it: a socket stays in
// the namespace it was created in, so we setns(2) in, connect, and go back.
#include "graph.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <netlink/route/link.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <set>

#include "nslab/command.hpp"
#include "nslab/errors.hpp"
#include "nslab/observe.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace po = boost::program_options;
using nslab::Fd;
namespace ns_graph = nslab::ns_graph;
namespace observe = nslab::observe;
namespace procfs = nslab::procfs;

namespace tool {

namespace {

std::string ns_path(pid_t pid, const std::string& type) {
    return "/proc/" + std::to_string(pid) + "/ns/" + type;
}

// The inode of the namespace an NS_GET_* ioctl returns, or 0 when the
// kernel will not say (EPERM: outside our own namespace; the initial one).
ino_t related(int ns_fd, unsigned long request) {
    Fd other(::ioctl(ns_fd, request));
    struct stat st {};
    if (!other || ::fstat(other.get(), &st) != 0) return 0;
    return st.st_ino;
}

std::vector<ns_graph::Interface> links_of(pid_t member) {
    Fd own = nslab::sys::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    Fd theirs = nslab::sys::open(ns_path(member, "net"), O_RDONLY | O_CLOEXEC);
    std::unique_ptr<nl_sock, void (*)(nl_sock*)> sock(nl_socket_alloc(), nl_socket_free);
    if (!sock) throw std::runtime_error("nl_socket_alloc failed");
    {
        nslab::sys::setns(theirs.get(), CLONE_NEWNET);
        nslab::ScopeGuard back([&] { nslab::sys::setns(own.get(), CLONE_NEWNET); });
        if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0)
            throw std::runtime_error(std::string("nl_connect: ") + nl_geterror(err));
    }
    nl_cache* cache = nullptr;
    if (int err = rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &cache); err < 0)
        throw std::runtime_error(std::string("rtnl_link_alloc_cache: ") + nl_geterror(err));
    std::vector<ns_graph::Interface> links;
    for (nl_object* obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
        auto* link = reinterpret_cast<rtnl_link*>(obj);
        const char* kind = rtnl_link_get_type(link);
        links.push_back({rtnl_link_get_ifindex(link), rtnl_link_get_link(link),
                         rtnl_link_get_master(link), rtnl_link_get_name(link), kind ? kind : ""});
    }
    nl_cache_free(cache);
    return links;
}

// Runs dot -T<format>, feeding it the DOT text on its standard input.
void render(const std::string& dot_text, const std::string& format, const std::string& output) {
    namespace command = nslab::command;
    std::vector<std::string> argv{"dot", "-T" + format};
    if (!output.empty()) argv.insert(argv.end(), {"-o", output});
    command::Child child;
    try {
        child = command::start({.argv = argv, .in = command::Stream::pipe()});
    } catch (const command::NotStarted& e) {
        if (e.status() == nslab::exit_status::not_found)
            throw std::runtime_error("dot not found: install graphviz, or use --format dot");
        throw;
    }
    size_t done = 0;
    while (done < dot_text.size()) {
        ssize_t n = ::write(child.in.get(), dot_text.data() + done, dot_text.size() - done);
        if (n <= 0) break;  // dot died: its status says why
        done += static_cast<size_t>(n);
    }
    child.in.reset();
    int status = command::wait(child.pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("dot -T" + format + " failed");
}

}  // namespace

ns_graph::Snapshot take_snapshot() {
    ns_graph::Snapshot snapshot;
    std::map<std::pair<std::string, ino_t>, pid_t> member;  // a process in each namespace
    for (pid_t pid : procfs::all_pids()) {
        try {
            auto status = observe::status(pid);
            if (pid == 2 || status.ppid == 2) continue;  // kernel threads
            ns_graph::Process process{pid, status.ppid, status.name, status.nspid, {}};
            for (std::string_view type : ns_graph::graph_types)
                if (auto inode = observe::namespace_inode(pid, type)) {
                    process.ns[std::string(type)] = *inode;
                    member.emplace(std::make_pair(std::string(type), *inode), pid);
                }
            snapshot.processes.push_back(std::move(process));
        } catch (const std::system_error&) {
            // The process ended while we looked, or we may not look (not root).
        }
    }
    // The host's namespaces are PID 1's; where even root may not read those
    // (a sandbox), ours stand in for them.
    snapshot.init_pid = ::getpid();
    for (const auto& process : snapshot.processes)
        if (process.pid == 1 && !process.ns.empty()) snapshot.init_pid = 1;
    bool root = ::geteuid() == 0;
    for (const auto& [key, pid] : member) {
        const auto& [type, inode] = key;
        Fd fd(::open(ns_path(pid, type).c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) continue;
        if (type != "user")
            if (ino_t owner = related(fd.get(), NS_GET_USERNS)) snapshot.owner[inode] = owner;
        if (type == "user" || type == "pid")
            if (ino_t parent = related(fd.get(), NS_GET_PARENT)) snapshot.parent[inode] = parent;
        if (type == "net" && root) try {
                snapshot.interfaces[inode] = links_of(pid);
            } catch (const std::exception&) {
                // It went away, or we may not enter it: draw it without links.
            }
    }
    return snapshot;
}

int graph(const std::vector<std::string>& args) {
    po::options_description options("nslab graph");
    options.add_options()("format", po::value<std::string>()->default_value("dot"),
                          "dot, svg or png (svg and png run Graphviz dot)")(
        "type", po::value<std::string>()->default_value("pid,user,net,mnt,uts,ipc,cgroup,time"),
        "namespace types to draw, comma-separated")(
        "pid", po::value<pid_t>(), "only the processes in this process's PID namespace")(
        "output", po::value<std::string>(), "write here instead of standard output")("help,h",
                                                                                     "this help");
    po::variables_map vm;
    auto style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(args).options(options).style(style).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << "usage: nslab graph [--format dot|svg|png] [--type pid,net,...] [--pid PID]"
                     " [--output FILE]\n"
                  << options;
        return 0;
    }

    std::string format = vm["format"].as<std::string>();
    if (format != "dot" && format != "svg" && format != "png")
        throw po::error("invalid value '" + format + "' for --format: expected dot, svg or png");
    ns_graph::Options graph_options;
    try {
        graph_options.types = ns_graph::parse_types(vm["type"].as<std::string>());
    } catch (const std::invalid_argument& e) {
        throw po::error("invalid value for --type: " + std::string(e.what()));
    }
    if (vm.count("pid")) {
        graph_options.focus = vm["pid"].as<pid_t>();
        if (graph_options.focus <= 0 ||
            !nslab::sys::exists("/proc/" + std::to_string(graph_options.focus)))
            throw po::error("invalid value '" + std::to_string(graph_options.focus) +
                            "' for --pid: no such process");
    }
    std::string output = vm.count("output") ? vm["output"].as<std::string>() : "";
    if (format == "png" && output.empty() && ::isatty(1))
        throw po::error("--format png writes binary data: add --output FILE");
    if (::geteuid() != 0)
        std::cerr << "nslab graph: not root: other users' processes and the network links "
                     "are left out (sudo ./nslab graph)\n";

    std::string dot_text = ns_graph::to_dot(take_snapshot(), graph_options);
    if (format != "dot") {
        render(dot_text, format, output);
        return 0;
    }
    if (output.empty()) {
        std::cout << dot_text;
        return 0;
    }
    std::ofstream file(output);
    file << dot_text;
    if (!file.flush()) throw std::runtime_error("cannot write " + output);
    return 0;
}

}  // namespace tool

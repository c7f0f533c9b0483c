// Lab 00: a process and its namespaces, as /proc shows them.
//
// A process's namespaces hang off its task_struct: nsproxy points at the
// uts, ipc, mnt, pid_for_children, net, time and cgroup namespaces; the user
// namespace hangs off its credentials; the PID namespace it lives in is
// fixed by its struct pid. /proc/PID/ns/ shows each as a magic link whose
// text is "TYPE:[INODE]": two processes are in the same namespace exactly
// when the inodes are equal (namespaces(7)).
#include "nslab/layers/process.hpp"

#include <string>

#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace nslab::process {

ino_t namespace_inode(pid_t pid, const std::string& type) {
    std::string link = "/proc/" + std::to_string(pid) + "/ns/" + type;
    // Older kernels lack some types (time arrived in 5.6): no link, no namespace.
    if (!sys::exists(link)) return 0;
    std::string text = sys::readlink(link);  // e.g. "uts:[4026531838]"
    size_t open = text.find('[');
    size_t close = text.find(']', open);
    if (open == std::string::npos || close == std::string::npos)
        throw std::runtime_error("unexpected link text '" + text + "' in " + link);
    return static_cast<ino_t>(std::stoull(text.substr(open + 1, close - open - 1)));
}

Identity identify(pid_t pid) {
    Identity identity;
    identity.pid = pid;
    // NSpid lists the PID in every PID namespace from the outermost (ours)
    // to the one the process lives in: a container's PID 1 shows "4321 1".
    auto fields = procfs::parse_status(sys::read_file("/proc/" + std::to_string(pid) + "/status"));
    identity.name = fields["Name"];
    identity.ppid = static_cast<pid_t>(std::stol(fields["PPid"]));
    identity.nspid = procfs::parse_pid_list(fields["NSpid"]);
    for (std::string_view type : procfs::namespace_types) {
        if (ino_t inode = namespace_inode(pid, std::string(type)))
            identity.ns[std::string(type)] = inode;
    }
    return identity;
}

std::vector<std::string> shared_namespaces(const Identity& a, const Identity& b) {
    std::vector<std::string> shared;
    for (std::string_view type : procfs::namespace_types) {
        auto in_a = a.ns.find(std::string(type));
        auto in_b = b.ns.find(std::string(type));
        if (in_a != a.ns.end() && in_b != b.ns.end() && in_a->second == in_b->second)
            shared.emplace_back(type);
    }
    return shared;
}

}  // namespace nslab::process

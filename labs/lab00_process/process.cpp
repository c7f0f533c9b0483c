// Lab 00: a process and its namespaces, as /proc shows them.
//
// Read labs/lab00_process/README.md first. Each TODO below is a numbered
// step of the handout; replace the `throw` with your code.
#include "nslab/layers/process.hpp"

#include <string>

#include "nslab/errors.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace nslab::process {

ino_t namespace_inode(pid_t pid, const std::string& type) {
    // TODO step 1: read the link /proc/PID/ns/TYPE with sys::readlink; its
    // text looks like "net:[4026531840]": return the number between the
    // brackets. If the link does not exist (sys::exists), return 0.
    (void)pid;
    (void)type;
    throw NotImplemented("lab00_process", 1, "namespaces(7), readlink(2)");
}

Identity identify(pid_t pid) {
    // TODO step 2: read /proc/PID/status (sys::read_file, then
    // procfs::parse_status) for Name, PPid and NSpid (procfs::parse_pid_list),
    // and fill identity.ns with namespace_inode() for every type in
    // procfs::namespace_types, leaving out the types that return 0.
    (void)pid;
    throw NotImplemented("lab00_process", 2, "proc(5): /proc/pid/status, /proc/pid/ns");
}

std::vector<std::string> shared_namespaces(const Identity& a, const Identity& b) {
    // TODO step 3: the types (in procfs::namespace_types order) that both
    // processes have with the same inode.
    (void)a;
    (void)b;
    throw NotImplemented("lab00_process", 3, "namespaces(7)");
}

}  // namespace nslab::process

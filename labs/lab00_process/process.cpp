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
    // TODO step 1: the number that names the namespace of this type the
    // process is in, as its link in /proc/PID/ns tells it; 0 when this
    // kernel has no such type (man 7 namespaces, "The /proc/pid/ns/ directory").
    // Why read the link instead of opening it?
    (void)pid;
    (void)type;
    throw NotImplemented("lab00_process", 1, "man 7 namespaces, man 2 readlink");
}

Identity identify(pid_t pid) {
    // TODO step 2: the process's name, its parent and its PID in every PID
    // namespace, as the kernel reports them, and each namespace it is in
    // (man 5 proc, "/proc/pid/status"). In whose PID namespace is PPid told?
    (void)pid;
    throw NotImplemented("lab00_process", 2, "man 5 proc: /proc/pid/status, /proc/pid/ns");
}

std::vector<std::string> shared_namespaces(const Identity& a, const Identity& b) {
    // TODO step 3: the types, in the order of procfs::namespace_types, in
    // which both processes are in the same namespace (man 7 namespaces, "The
    // /proc/pid/ns/ directory"). Why is the inode alone enough here?
    (void)a;
    (void)b;
    throw NotImplemented("lab00_process", 3, "man 7 namespaces");
}

}  // namespace nslab::process

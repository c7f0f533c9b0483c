// Lab 00: a process and its namespaces, as /proc shows them.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace nslab::process {

struct Identity {
    pid_t pid = 0;
    std::string name;  // the command name (Name: in status)
    pid_t ppid = 0;
    std::vector<pid_t> nspid;         // the PID in each PID namespace, outermost first
    std::map<std::string, ino_t> ns;  // namespace type -> inode (absent: no such type)
};

// Step 1: the inode number of /proc/PID/ns/TYPE, read from the link text
// "TYPE:[INODE]". Returns 0 when this kernel has no namespace of that type.
ino_t namespace_inode(pid_t pid, const std::string& type);

// Step 2: name, PPid and NSpid from /proc/PID/status, and every namespace.
Identity identify(pid_t pid);

// Step 3: the namespace types two processes share (same inode), in the
// order of procfs::namespace_types.
std::vector<std::string> shared_namespaces(const Identity& a, const Identity& b);

}  // namespace nslab::process

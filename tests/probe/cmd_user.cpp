// Lab 05's probe commands: what the container's root may and may not do.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/swap.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

#include "probe.hpp"

namespace {

using probe::Args;

// "ok", or the errno's name (EPERM, EACCES...), for rc == -1.
std::string outcome(long rc) {
    if (rc != -1) return "ok";
    const char* name = ::strerrorname_np(errno);
    return name ? name : std::to_string(errno);
}

// The capabilities we hold, and how two host-wide privileged calls fare.
// Both are checked against the host's user namespace (capable(), not
// ns_capable()), and neither harms anything when allowed: swapoff(2) of a
// swap area that does not exist gives ENOENT to a caller with the
// capability and EPERM to one without; raising our own priority needs
// CAP_SYS_NICE (EACCES) and only touches this short-lived probe. With a
// HOSTNAME, also try sethostname(2), which is checked against the user
// namespace that owns our UTS namespace.
int cmd_privileges(const Args& args) {
    auto fields = probe::slurp("/proc/self/status");
    size_t at = fields.find("CapEff:\t");
    if (at != std::string::npos)
        std::cout << "CapEff: " << fields.substr(at + 8, fields.find('\n', at) - at - 8) << "\n";
    std::cout << "swapoff: " << outcome(::swapoff("/nslab-no-such-swap")) << "\n";
    errno = 0;
    int nice = ::getpriority(PRIO_PROCESS, 0);
    std::cout << "setpriority: " << outcome(::setpriority(PRIO_PROCESS, 0, nice - 1)) << "\n";
    if (!args.empty())
        std::cout << "sethostname: " << outcome(::sethostname(args[0].data(), args[0].size()))
                  << "\n";
    return 0;
}

int cmd_open(const Args& args) {
    int fd = ::open(args.at(0).c_str(), O_RDONLY | O_CLOEXEC);
    std::cout << "open: " << outcome(fd) << "\n";
    if (fd >= 0) ::close(fd);
    return 0;
}

const probe::Register r_privileges(
    "privileges", cmd_privileges,
    "[HOSTNAME]: print CapEff, try swapoff and setpriority (host-wide), and sethostname");
const probe::Register r_open("open", cmd_open, "PATH: try to open PATH for reading, say why not");

}  // namespace

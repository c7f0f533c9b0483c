// Lab 04's probe subcommands: what the container's network stack looks like
// from inside, and whether a port is its own.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "probe.hpp"

namespace {

using probe::Args;

// "link: NAME up|down", one line per interface of this network namespace.
int cmd_links(const Args&) {
    struct if_nameindex* names = ::if_nameindex();
    if (!names) {
        std::cerr << "probe links: if_nameindex: " << std::strerror(errno) << "\n";
        return 1;
    }
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    for (struct if_nameindex* n = names; n->if_index != 0; ++n) {
        ifreq request{};
        std::strncpy(request.ifr_name, n->if_name, IFNAMSIZ - 1);
        bool up =
            sock >= 0 && ::ioctl(sock, SIOCGIFFLAGS, &request) == 0 && (request.ifr_flags & IFF_UP);
        std::cout << "link: " << n->if_name << (up ? " up" : " down") << "\n";
    }
    if (sock >= 0) ::close(sock);
    ::if_freenameindex(names);
    return 0;
}

// Binds TCP PORT on every address of this namespace, listens, and holds it
// ("ready PID") until stdin closes. Two containers can both do this for the
// same port only if each has its own network namespace.
int cmd_bind(const Args& args) {
    if (args.size() != 1) {
        std::cerr << "usage: probe bind PORT\n";
        return 2;
    }
    int sock = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(std::atoi(args[0].c_str())));
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    if (sock < 0 || ::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) == -1 ||
        ::listen(sock, 1) == -1) {
        std::cerr << "probe bind " << args[0] << ": " << std::strerror(errno) << "\n";
        return 1;
    }
    probe::hold();
    ::close(sock);
    return 0;
}

const probe::Register r_links("links", cmd_links, "links: 'link: NAME up|down' per interface");
const probe::Register r_bind("bind", cmd_bind,
                             "bind PORT: listen on TCP PORT, hold until stdin ends");

}  // namespace

// Lab 04's probe subcommands: what the container's network stack looks like
// from inside, and whether a port is its own.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

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

// A TCP socket listening on PORT of every address of this namespace; -1
// (said on stderr, as "probe WHAT PORT: why") when it cannot be had.
int listen_tcp(const std::string& what, const std::string& port) {
    int sock = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int yes = 1;
    if (sock >= 0) ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(std::atoi(port.c_str())));
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    if (sock < 0 || ::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) == -1 ||
        ::listen(sock, 8) == -1) {
        std::cerr << "probe " << what << " " << port << ": " << std::strerror(errno) << "\n";
        if (sock >= 0) ::close(sock);
        return -1;
    }
    return sock;
}

// Binds TCP PORT on every address of this namespace, listens, and holds it
// ("ready PID") until stdin closes. Two containers can both do this for the
// same port only if each has its own network namespace.
int cmd_bind(const Args& args) {
    if (args.size() != 1) {
        std::cerr << "usage: probe bind PORT\n";
        return 2;
    }
    int sock = listen_tcp("bind", args[0]);
    if (sock < 0) return 1;
    probe::hold();
    ::close(sock);
    return 0;
}

// The peer's address of a connected socket, as text.
std::string peer_of(int fd) {
    sockaddr_in peer{};
    socklen_t length = sizeof peer;
    char text[INET_ADDRSTRLEN] = "?";
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0)
        ::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
    return text;
}

// Listens on TCP PORT ("ready PID") and answers each connection with one
// line, "served PEER" (the source address the container saw), until stdin
// closes: the container's side of a published port.
int cmd_serve(const Args& args) {
    if (args.size() != 1) {
        std::cerr << "usage: probe serve PORT\n";
        return 2;
    }
    int sock = listen_tcp("serve", args[0]);
    if (sock < 0) return 1;
    std::cout << "ready " << ::getpid() << std::endl;
    for (;;) {
        pollfd fds[2] = {{0, POLLIN, 0}, {sock, POLLIN, 0}};
        if (::poll(fds, 2, -1) == -1) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[0].revents) {
            char buffer[256];
            if (::read(0, buffer, sizeof buffer) <= 0) break;
        }
        if (fds[1].revents & POLLIN) {
            int client = ::accept4(sock, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) continue;
            const std::string line = "served " + peer_of(client) + "\n";
            (void)!::write(client, line.data(), line.size());
            ::close(client);
        }
    }
    ::close(sock);
    return 0;
}

// Connects to ADDRESS:PORT over TCP (5 s at most), prints what comes back.
int cmd_fetch(const Args& args) {
    if (args.size() != 2) {
        std::cerr << "usage: probe fetch ADDRESS PORT\n";
        return 2;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(std::atoi(args[1].c_str())));
    if (::inet_pton(AF_INET, args[0].c_str(), &address.sin_addr) != 1) {
        std::cerr << "probe fetch: not an IPv4 address: " << args[0] << "\n";
        return 2;
    }
    int sock = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval limit{5, 0};
    ::setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    if (::connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) == -1) {
        std::cerr << "probe fetch " << args[0] << ":" << args[1] << ": " << std::strerror(errno)
                  << "\n";
        return 1;
    }
    char buffer[512];
    for (ssize_t n; (n = ::read(sock, buffer, sizeof buffer)) > 0;) std::cout.write(buffer, n);
    std::cout.flush();
    ::close(sock);
    return 0;
}

const probe::Register r_links("links", cmd_links, "links: 'link: NAME up|down' per interface");
const probe::Register r_bind("bind", cmd_bind,
                             "bind PORT: listen on TCP PORT, hold until stdin ends");
const probe::Register r_serve("serve", cmd_serve,
                              "serve PORT: answer each TCP connection with 'served PEER'");
const probe::Register r_fetch("fetch", cmd_fetch,
                              "fetch ADDRESS PORT: connect over TCP, print what comes back");

}  // namespace

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
#include <functional>
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

// A socket of `type` bound to PORT of every address of this namespace, and
// listening if it is TCP (SOCK_STREAM); -1 (said on stderr, as "probe WHAT
// PORT: why") when it cannot be had.
int bound_to(const std::string& what, const std::string& port, int type) {
    int sock = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    int yes = 1;
    if (sock >= 0) ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(std::atoi(port.c_str())));
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    if (sock < 0 || ::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) == -1 ||
        (type == SOCK_STREAM && ::listen(sock, 8) == -1)) {
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
    int sock = bound_to("bind", args[0], SOCK_STREAM);
    if (sock < 0) return 1;
    probe::hold();
    ::close(sock);
    return 0;
}

std::string text_of(const sockaddr_in& address) {
    char text[INET_ADDRSTRLEN] = "?";
    ::inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
    return text;
}

// The peer's address of a connected socket, as text.
std::string peer_of(int fd) {
    sockaddr_in peer{};
    socklen_t length = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return "?";
    return text_of(peer);
}

// Prints "ready PID", then calls `answer` each time `sock` is readable,
// until stdin closes.
void serve_until_stdin_ends(int sock, const std::function<void()>& answer) {
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
        if (fds[1].revents & POLLIN) answer();
    }
    ::close(sock);
}

// Listens on TCP PORT and answers each connection with one line, "served
// PEER" (the source address the container saw): the container's side of a
// published port.
int cmd_serve(const Args& args) {
    if (args.size() != 1) {
        std::cerr << "usage: probe serve PORT\n";
        return 2;
    }
    int sock = bound_to("serve", args[0], SOCK_STREAM);
    if (sock < 0) return 1;
    serve_until_stdin_ends(sock, [sock] {
        int client = ::accept4(sock, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) return;
        const std::string line = "served " + peer_of(client) + "\n";
        (void)!::write(client, line.data(), line.size());
        ::close(client);
    });
    return 0;
}

// Binds UDP PORT and answers each datagram with one, "served PEER": the
// container's side of a port published with /udp.
int cmd_serve_udp(const Args& args) {
    if (args.size() != 1) {
        std::cerr << "usage: probe serve-udp PORT\n";
        return 2;
    }
    int sock = bound_to("serve-udp", args[0], SOCK_DGRAM);
    if (sock < 0) return 1;
    serve_until_stdin_ends(sock, [sock] {
        char datagram[512];
        sockaddr_in peer{};
        socklen_t length = sizeof peer;
        if (::recvfrom(sock, datagram, sizeof datagram, 0, reinterpret_cast<sockaddr*>(&peer),
                       &length) < 0)
            return;
        const std::string line = "served " + text_of(peer) + "\n";
        (void)!::sendto(sock, line.data(), line.size(), 0, reinterpret_cast<sockaddr*>(&peer),
                        length);
    });
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
const probe::Register r_serve_udp("serve-udp", cmd_serve_udp,
                                  "serve-udp PORT: answer each UDP datagram with 'served PEER'");
const probe::Register r_fetch("fetch", cmd_fetch,
                              "fetch ADDRESS PORT: connect over TCP, print what comes back");

}  // namespace

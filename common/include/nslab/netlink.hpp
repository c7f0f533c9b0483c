// A thin RAII layer over libnl-route-3: the rtnetlink requests lab 04 needs
// (links, addresses, a route), and the two ctnetlink ones of its part two
// (list and delete conntrack entries), each one call named after what it
// asks the kernel for, each throwing std::system_error with the request in
// its text, e.g. "netlink RTM_NEWLINK veth nsv1a2b3c4d/eth0: File exists".
//
// A netlink socket talks to the network namespace its creator was in when
// it was opened (rtnetlink(7)): open it in the parent to change the host
// side, in the child to change the container's side.
#pragma once

#include <linux/netlink.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/config.hpp"

struct nl_sock;

namespace nslab::netlink {

// A connected netlink socket (nl_socket_alloc + nl_connect): NETLINK_ROUTE
// for links, addresses and routes, NETLINK_NETFILTER for conntrack.
class Socket {
  public:
    explicit Socket(int protocol = NETLINK_ROUTE);
    ~Socket();
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    nl_sock* get() const { return sock_; }

  private:
    nl_sock* sock_ = nullptr;
};

// What `ip link` shows of an interface.
struct Link {
    std::string name;
    std::string kind;  // "veth", "bridge", ... ("" for lo and physical devices)
    int index = 0;
    int master = 0;  // the bridge's index when it is a bridge port
    bool up = false;
};

std::vector<Link> links(Socket& nl);  // RTM_GETLINK dump
std::optional<Link> find_link(Socket& nl, std::string_view name);

// Names are string_views, so the constants of net_plan.hpp pass as they are.
// RTM_NEWLINK kind "bridge". An existing one is fine (another runtime may
// have made it a moment ago).
void add_bridge(Socket& nl, std::string_view name);
// RTM_NEWLINK kind "veth": `name` here, `peer` created directly in the
// network namespace of process `peer_netns_pid` (IFLA_NET_NS_PID).
void add_veth_pair(Socket& nl, std::string_view name, std::string_view peer, pid_t peer_netns_pid);
void set_master(Socket& nl, std::string_view link, std::string_view bridge);  // IFLA_MASTER
void set_up(Socket& nl, std::string_view link);                               // IFF_UP
// RTM_NEWADDR; the address already being there is fine.
void add_address(Socket& nl, std::string_view link, const Cidr& address);
// RTM_NEWROUTE 0.0.0.0/0 via gateway in the main table.
void add_default_route(Socket& nl, std::uint32_t gateway);
// RTM_DELLINK. Returns false when there was no such link (ENODEV).
bool delete_link(Socket& nl, std::string_view name);

// One entry of the conntrack table (conntrack(8)): the connection as its
// first packet was (original direction) and as its answers come (reply
// direction), which differ where NAT rewrote it. IPv4, host byte order;
// ports are 0 for a protocol without them.
struct Connection {
    std::uint8_t protocol = 0;  // IPPROTO_TCP, IPPROTO_UDP, ...
    std::uint32_t source = 0, destination = 0;
    std::uint16_t source_port = 0, destination_port = 0;
    std::uint32_t reply_source = 0, reply_destination = 0;
    std::uint16_t reply_source_port = 0, reply_destination_port = 0;
    // The attributes that name the entry to the kernel (its original tuple,
    // zone and id), as the dump gave them, for delete_connection.
    std::vector<std::pair<int, std::string>> key;
};
// "tcp 192.0.2.2:40000 > 192.0.2.1:8080, reply 10.88.0.2:80 > 192.0.2.2:40000"
std::string to_string(const Connection& c);

// IPCTNL_MSG_CT_GET (dump) of the IPv4 entries of the socket's namespace
// (NETLINK_NETFILTER socket).
std::vector<Connection> connections(Socket& nl);
// IPCTNL_MSG_CT_DELETE of that entry. Returns false when it was gone already.
bool delete_connection(Socket& nl, const Connection& c);

}  // namespace nslab::netlink

#include "nslab/netlink.hpp"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include <cerrno>
#include <memory>
#include <system_error>

#include "nslab/net_plan.hpp"
#include "nslab/parse.hpp"

namespace nslab::netlink {

namespace {

// libnl reports its own codes (NLE_*); the errno behind them is what a
// caller tests and what a message should say.
int errno_of(int nl_error) {
    switch (nl_error < 0 ? -nl_error : nl_error) {
        case NLE_EXIST:
            return EEXIST;
        case NLE_NODEV:
            return ENODEV;
        case NLE_OBJ_NOTFOUND:
            return ENOENT;
        case NLE_PERM:
            return EPERM;
        case NLE_NOACCESS:
            return EACCES;
        case NLE_INVAL:
            return EINVAL;
        case NLE_BUSY:
            return EBUSY;
        case NLE_NOMEM:
            return ENOMEM;
        case NLE_RANGE:
            return ERANGE;
        case NLE_OPNOTSUPP:
            return EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
            return EAFNOSUPPORT;
        case NLE_NOADDR:
            return EADDRNOTAVAIL;
        case NLE_AGAIN:
            return EAGAIN;
        case NLE_INTR:
            return EINTR;
        default:
            return EIO;
    }
}

[[noreturn]] void fail(int nl_error, const std::string& request) {
    throw std::system_error(errno_of(nl_error), std::generic_category(), "netlink " + request);
}

int check(int rc, const std::string& request) {
    if (rc < 0) fail(rc, request);
    return rc;
}

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using LinkPtr = std::unique_ptr<rtnl_link, Deleter<rtnl_link, rtnl_link_put>>;
using AddrPtr = std::unique_ptr<nl_addr, Deleter<nl_addr, nl_addr_put>>;
using RtAddrPtr = std::unique_ptr<rtnl_addr, Deleter<rtnl_addr, rtnl_addr_put>>;
using RoutePtr = std::unique_ptr<rtnl_route, Deleter<rtnl_route, rtnl_route_put>>;
using CachePtr = std::unique_ptr<nl_cache, Deleter<nl_cache, nl_cache_free>>;

// The link as the kernel has it now (RTM_GETLINK by name).
LinkPtr get_link(Socket& nl, const std::string& name) {
    rtnl_link* link = nullptr;
    check(rtnl_link_get_kernel(nl.get(), 0, name.c_str(), &link), "RTM_GETLINK " + name);
    return LinkPtr(link);
}

AddrPtr ipv4(std::uint32_t address, int prefix) {
    std::uint32_t network_order = htonl(address);
    AddrPtr a(nl_addr_build(AF_INET, &network_order, sizeof network_order));
    if (!a) throw std::bad_alloc();
    nl_addr_set_prefixlen(a.get(), prefix);
    return a;
}

Link describe(rtnl_link* link) {
    Link l;
    l.name = rtnl_link_get_name(link) ? rtnl_link_get_name(link) : "";
    l.kind = rtnl_link_get_type(link) ? rtnl_link_get_type(link) : "";
    l.index = rtnl_link_get_ifindex(link);
    l.master = rtnl_link_get_master(link);
    l.up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
    return l;
}

}  // namespace

Socket::Socket(int protocol) : sock_(nl_socket_alloc()) {
    if (!sock_) throw std::bad_alloc();
    int rc = nl_connect(sock_, protocol);
    if (rc < 0) {
        nl_socket_free(sock_);
        fail(rc,
             protocol == NETLINK_ROUTE ? "connect(NETLINK_ROUTE)" : "connect(NETLINK_NETFILTER)");
    }
}

Socket::~Socket() {
    nl_socket_free(sock_);  // closes the socket too
}

std::vector<Link> links(Socket& nl) {
    nl_cache* raw = nullptr;
    check(rtnl_link_alloc_cache(nl.get(), AF_UNSPEC, &raw), "RTM_GETLINK (dump)");
    CachePtr cache(raw);
    std::vector<Link> result;
    nl_cache_foreach(
        cache.get(),
        [](nl_object* object, void* out) {
            static_cast<std::vector<Link>*>(out)->push_back(
                describe(reinterpret_cast<rtnl_link*>(object)));
        },
        &result);
    return result;
}

std::optional<Link> find_link(Socket& nl, std::string_view link_name) {
    const std::string name(link_name);
    rtnl_link* link = nullptr;
    int rc = rtnl_link_get_kernel(nl.get(), 0, name.c_str(), &link);
    if (rc < 0 && errno_of(rc) == ENODEV) return {};
    check(rc, "RTM_GETLINK " + name);
    LinkPtr owned(link);
    return describe(link);
}

void add_bridge(Socket& nl, std::string_view bridge_name) {
    const std::string name(bridge_name);
    int rc = rtnl_link_bridge_add(nl.get(), name.c_str());
    if (rc < 0 && errno_of(rc) != EEXIST) fail(rc, "RTM_NEWLINK bridge " + name);
}

void add_veth_pair(Socket& nl, std::string_view link_name, std::string_view peer_name,
                   pid_t peer_netns_pid) {
    const std::string name(link_name), peer(peer_name);
    check(rtnl_link_veth_add(nl.get(), name.c_str(), peer.c_str(), peer_netns_pid),
          "RTM_NEWLINK veth " + name + "/" + peer + " (peer into the netns of PID " +
              std::to_string(peer_netns_pid) + ")");
}

void set_master(Socket& nl, std::string_view link_name, std::string_view bridge_name) {
    const std::string link(link_name), bridge(bridge_name);
    int bridge_index = rtnl_link_get_ifindex(get_link(nl, bridge).get());
    int link_index = rtnl_link_get_ifindex(get_link(nl, link).get());
    check(rtnl_link_enslave_ifindex(nl.get(), bridge_index, link_index),
          "RTM_NEWLINK " + link + " master " + bridge);
}

void set_up(Socket& nl, std::string_view link_name) {
    const std::string link(link_name);
    LinkPtr current = get_link(nl, link);
    LinkPtr change(rtnl_link_alloc());
    if (!change) throw std::bad_alloc();
    rtnl_link_set_flags(change.get(), IFF_UP);
    check(rtnl_link_change(nl.get(), current.get(), change.get(), 0),
          "RTM_NEWLINK " + link + " up");
}

void add_address(Socket& nl, std::string_view link_name, const Cidr& address) {
    const std::string link(link_name);
    const std::string request = "RTM_NEWADDR " + parse::to_string(address) + " dev " + link;
    RtAddrPtr addr(rtnl_addr_alloc());
    if (!addr) throw std::bad_alloc();
    rtnl_addr_set_ifindex(addr.get(), rtnl_link_get_ifindex(get_link(nl, link).get()));
    check(rtnl_addr_set_local(addr.get(), ipv4(address.address, address.prefix).get()), request);
    int rc = rtnl_addr_add(nl.get(), addr.get(), 0);
    if (rc < 0 && errno_of(rc) != EEXIST) fail(rc, request);
}

void add_default_route(Socket& nl, std::uint32_t gateway) {
    const std::string request = "RTM_NEWROUTE default via " + parse::to_string({gateway, 32});
    RoutePtr route(rtnl_route_alloc());
    if (!route) throw std::bad_alloc();
    rtnl_route_set_family(route.get(), AF_INET);
    rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
    rtnl_route_set_scope(route.get(), RT_SCOPE_UNIVERSE);
    rtnl_route_set_protocol(route.get(), RTPROT_BOOT);
    check(rtnl_route_set_dst(route.get(), ipv4(0, 0).get()), request);
    rtnl_nexthop* hop = rtnl_route_nh_alloc();  // the route owns it once added
    if (!hop) throw std::bad_alloc();
    rtnl_route_nh_set_gateway(hop, ipv4(gateway, 32).get());
    rtnl_route_add_nexthop(route.get(), hop);
    check(rtnl_route_add(nl.get(), route.get(), NLM_F_EXCL), request);
}

bool delete_link(Socket& nl, std::string_view link_name) {
    const std::string name(link_name);
    LinkPtr link(rtnl_link_alloc());
    if (!link) throw std::bad_alloc();
    rtnl_link_set_name(link.get(), name.c_str());
    int rc = rtnl_link_delete(nl.get(), link.get());
    if (rc < 0 && (errno_of(rc) == ENODEV || errno_of(rc) == ENOENT)) return false;
    check(rc, "RTM_DELLINK " + name);
    return true;
}

namespace {

using MsgPtr = std::unique_ptr<nl_msg, Deleter<nl_msg, nlmsg_free>>;
using CbPtr = std::unique_ptr<nl_cb, Deleter<nl_cb, nl_cb_put>>;

// A ctnetlink request: the nfnetlink header says the subsystem, the message
// and the address family (nfnetlink(7) has no page; the kernel's
// include/uapi/linux/netfilter/nfnetlink_conntrack.h is the reference).
MsgPtr conntrack_request(int message, int flags) {
    MsgPtr msg(nlmsg_alloc_simple((NFNL_SUBSYS_CTNETLINK << 8) | message, NLM_F_REQUEST | flags));
    if (!msg) throw std::bad_alloc();
    nfgenmsg head{};
    head.nfgen_family = AF_INET;
    head.version = NFNETLINK_V0;
    check(nlmsg_append(msg.get(), &head, sizeof head, NLMSG_ALIGNTO), "conntrack request");
    return msg;
}

// One direction of an entry (CTA_TUPLE_ORIG or CTA_TUPLE_REPLY); false when
// it is not IPv4.
bool read_tuple(nlattr* tuple, std::uint8_t& protocol, std::uint32_t& source,
                std::uint32_t& destination, std::uint16_t& source_port,
                std::uint16_t& destination_port) {
    nlattr* t[CTA_TUPLE_MAX + 1] = {};
    nlattr* ip[CTA_IP_MAX + 1] = {};
    if (!tuple || nla_parse_nested(t, CTA_TUPLE_MAX, tuple, nullptr) < 0 || !t[CTA_TUPLE_IP] ||
        nla_parse_nested(ip, CTA_IP_MAX, t[CTA_TUPLE_IP], nullptr) < 0 || !ip[CTA_IP_V4_SRC] ||
        !ip[CTA_IP_V4_DST])
        return false;
    source = ntohl(nla_get_u32(ip[CTA_IP_V4_SRC]));
    destination = ntohl(nla_get_u32(ip[CTA_IP_V4_DST]));
    nlattr* p[CTA_PROTO_MAX + 1] = {};
    if (t[CTA_TUPLE_PROTO] &&
        nla_parse_nested(p, CTA_PROTO_MAX, t[CTA_TUPLE_PROTO], nullptr) == 0) {
        if (p[CTA_PROTO_NUM]) protocol = nla_get_u8(p[CTA_PROTO_NUM]);
        if (p[CTA_PROTO_SRC_PORT]) source_port = ntohs(nla_get_u16(p[CTA_PROTO_SRC_PORT]));
        if (p[CTA_PROTO_DST_PORT]) destination_port = ntohs(nla_get_u16(p[CTA_PROTO_DST_PORT]));
    }
    return true;
}

int on_connection(nl_msg* msg, void* out) {
    nlattr* a[CTA_MAX + 1] = {};
    if (nlmsg_parse(nlmsg_hdr(msg), sizeof(nfgenmsg), a, CTA_MAX, nullptr) < 0) return NL_SKIP;
    Connection c;
    if (!read_tuple(a[CTA_TUPLE_ORIG], c.protocol, c.source, c.destination, c.source_port,
                    c.destination_port) ||
        !read_tuple(a[CTA_TUPLE_REPLY], c.protocol, c.reply_source, c.reply_destination,
                    c.reply_source_port, c.reply_destination_port))
        return NL_SKIP;
    for (int type : {CTA_TUPLE_ORIG, CTA_ZONE, CTA_ID})
        if (a[type])
            c.key.emplace_back(a[type]->nla_type,
                               std::string(static_cast<const char*>(nla_data(a[type])),
                                           static_cast<std::size_t>(nla_len(a[type]))));
    static_cast<std::vector<Connection>*>(out)->push_back(std::move(c));
    return NL_OK;
}

std::string endpoint(std::uint32_t address, std::uint16_t port) {
    return net_plan::address_text(address) + (port ? ":" + std::to_string(port) : std::string());
}

}  // namespace

std::string to_string(const Connection& c) {
    const std::string protocol = c.protocol == IPPROTO_TCP   ? "tcp"
                                 : c.protocol == IPPROTO_UDP ? "udp"
                                 : c.protocol == IPPROTO_ICMP
                                     ? "icmp"
                                     : "protocol " + std::to_string(c.protocol);
    return protocol + " " + endpoint(c.source, c.source_port) + " > " +
           endpoint(c.destination, c.destination_port) + ", reply " +
           endpoint(c.reply_source, c.reply_source_port) + " > " +
           endpoint(c.reply_destination, c.reply_destination_port);
}

std::vector<Connection> connections(Socket& nl) {
    const std::string request = "IPCTNL_MSG_CT_GET (dump)";
    MsgPtr msg = conntrack_request(IPCTNL_MSG_CT_GET, NLM_F_DUMP);
    check(nl_send_auto(nl.get(), msg.get()), request);
    CbPtr cb(nl_cb_alloc(NL_CB_DEFAULT));
    if (!cb) throw std::bad_alloc();
    std::vector<Connection> found;
    nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_connection, &found);
    check(nl_recvmsgs(nl.get(), cb.get()), request);
    return found;
}

bool delete_connection(Socket& nl, const Connection& c) {
    const std::string request = "IPCTNL_MSG_CT_DELETE " + to_string(c);
    MsgPtr msg = conntrack_request(IPCTNL_MSG_CT_DELETE, NLM_F_ACK);
    for (const auto& [type, data] : c.key)
        check(nla_put(msg.get(), type, static_cast<int>(data.size()), data.data()), request);
    check(nl_send_auto(nl.get(), msg.get()), request);
    int rc = nl_wait_for_ack(nl.get());
    if (rc < 0 && errno_of(rc) == ENOENT) return false;  // it timed out meanwhile
    check(rc, request);
    return true;
}

}  // namespace nslab::netlink

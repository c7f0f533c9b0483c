// Lab 04's claims: the network namespace, lo, the veth pair and the bridge.
//
// No claim touches this machine's network. The whole grader process moves
// into a scratch network namespace before its first container (the
// harness's enter_scratch_network()), so every container of every claim,
// including the earlier labs' claims that run lab 04+ with its default
// --net bridge, makes its bridge there, and it vanishes with the grader. Each Net claim goes one
// step further and plays "host" in a fresh namespace of its own
// (ScratchHost), so it sees only its own bridge and veths and the graders
// can run side by side. Traffic stays inside these namespaces: part two's
// "outside" (ScratchOutside) is one more namespace, joined to the scratch
// host by a veth pair on TEST-NET-1, with no route anywhere else.
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "nslab/cli.hpp"
#include "nslab/nat_plan.hpp"
#include "nslab/net_host.hpp"
#include "nslab/net_plan.hpp"
#include "nslab/netlink.hpp"
#include "nslab/nftables.hpp"
#include "nslab/parse.hpp"
#include "nslab/sys.hpp"

using namespace grader;
namespace netlink = nslab::netlink;
namespace net_plan = nslab::net_plan;

namespace {

nslab::Fd open_netns(pid_t pid) {
    return nslab::sys::open(
        "/proc/" + (pid ? std::to_string(pid) : std::string("self")) + "/ns/net", O_RDONLY);
}

void bring_lo_up() {
    netlink::Socket nl;
    netlink::set_up(nl, "lo");
}

// The whole grader lives in a scratch network namespace from the start
// (enter_scratch_network(), which run() and Running::start() call anyway).
// At the end, what SIGKILLed runtimes left in /run/nslab/leases (the
// harness kills a Running container's runtime when a claim ends) is
// cleaned as `nslab cleanup` would.
class ScratchNetwork : public ::testing::Environment {
  public:
    void SetUp() override { enter_scratch_network(); }
    void TearDown() override { nslab::net::cleanup_stale(); }
};
[[maybe_unused]] ::testing::Environment* const scratch_network =
    ::testing::AddGlobalTestEnvironment(new ScratchNetwork);

// A fresh namespace that plays "host" for one claim; the grader returns to
// its previous namespace at the end, and the scratch one goes with its last
// process.
class ScratchHost {
  public:
    ScratchHost() : back_((enter_scratch_network(), open_netns(0))) {
        nslab::sys::unshare(CLONE_NEWNET);
        bring_lo_up();
    }
    ~ScratchHost() { ::setns(back_.get(), CLONE_NEWNET); }
    ScratchHost(const ScratchHost&) = delete;
    ScratchHost& operator=(const ScratchHost&) = delete;

  private:
    nslab::Fd back_;
};

// Runs fn in the network namespace of process pid, then comes back.
template <typename F>
auto in_netns_of(pid_t pid, F fn) {
    nslab::Fd back = open_netns(0);
    nslab::Fd target = open_netns(pid);
    nslab::sys::setns(target.get(), CLONE_NEWNET);
    nslab::ScopeGuard come_back([&] { ::setns(back.get(), CLONE_NEWNET); });
    return fn();
}

std::vector<netlink::Link> links_here() {
    netlink::Socket nl;
    return netlink::links(nl);
}

std::vector<netlink::Link> links_of(pid_t pid) {
    return in_netns_of(pid, links_here);
}

std::string names(const std::vector<netlink::Link>& links) {
    std::string text;
    for (const auto& l : links)
        text += (text.empty() ? "" : " ") + l.name + (l.kind.empty() ? "" : "(" + l.kind + ")");
    return "[" + text + "]";
}

// The host side: veths in the namespace we are in.
std::vector<netlink::Link> host_veths() {
    std::vector<netlink::Link> veths;
    for (const auto& l : links_here())
        if (l.kind == "veth") veths.push_back(l);
    return veths;
}

// Only the containers' host ends (nsv...), not a ScratchOutside's up0.
std::vector<netlink::Link> nslab_veths() {
    auto veths = host_veths();
    std::erase_if(veths,
                  [](const netlink::Link& l) { return !net_plan::is_host_veth_name(l.name); });
    return veths;
}

std::optional<netlink::Link> host_bridge() {
    netlink::Socket nl;
    return netlink::find_link(nl, std::string(net_plan::bridge_name));
}

// The IPv4 address of `link` in process pid's network namespace.
std::string ipv4_of(pid_t pid, const std::string& link) {
    return in_netns_of(pid, [&] {
        std::string found;
        ifaddrs* list = nullptr;
        if (::getifaddrs(&list) == -1) return found;
        for (ifaddrs* a = list; a; a = a->ifa_next) {
            if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || link != a->ifa_name) continue;
            char text[INET_ADDRSTRLEN] = {};
            ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text,
                        sizeof text);
            found = text;
        }
        ::freeifaddrs(list);
        return found;
    });
}

// Whether the lease file for `address` names runtime `pid` as its owner
// (another grader may take the address again as soon as it is free).
bool leased_by(const std::string& address, pid_t pid) {
    try {
        auto record = net_plan::parse_lease(
            nslab::sys::read_file(std::string(nslab::net::lease_dir) + "/" + address));
        return record && record->pid == pid;
    } catch (const std::system_error&) {
        return false;  // no lease file
    }
}

std::string gateway() {
    return net_plan::address_text(net_plan::bridge_address(net_plan::subnet()).address);
}

// Busybox ping from inside the container (its network and mount namespaces,
// so its own /bin/ping), one packet, bounded: true when a reply came.
bool pings(pid_t from, const std::string& address) {
    std::string out = run_host("nsenter -t " + std::to_string(from) + " -n -m ping -c 1 -W 2 " +
                               address + " 2>&1; echo \"status: $?\"");
    return out.find("status: 0") != std::string::npos;
}

// Waits (bounded) until process pid is gone.
bool gone_within(pid_t pid, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::kill(pid, 0) == -1 && errno == ESRCH) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// A TCP listener on PORT in /proc/PID/net/tcp: the listening sockets of
// that process's network namespace, read from the host.
bool listens_on(pid_t pid, int port) {
    char local[16];
    std::snprintf(local, sizeof local, ":%04X ", port);
    std::string table = nslab::sys::read_file("/proc/" + std::to_string(pid) + "/net/tcp");
    std::istringstream in(table);
    for (std::string line; std::getline(in, line);)
        if (line.find(local) != std::string::npos && line.find(" 0A ") != std::string::npos)
            return true;  // 0A: TCP_LISTEN
    return false;
}

// A socket of `type` connected to address:port from the namespace we are
// in, sends and receives bounded by 5 s; an empty Fd when connect fails.
nslab::Fd connected_to(int type, const std::string& address, int port) {
    nslab::Fd sock(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    timeval limit{5, 0};
    ::setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, address.c_str(), &to.sin_addr);
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) == -1) return {};
    return sock;
}

// One TCP exchange: connects to address:port and returns what the server
// wrote, "" when nothing came.
std::string tcp_fetch(const std::string& address, int port) {
    nslab::Fd sock = connected_to(SOCK_STREAM, address, port);
    if (!sock) return {};
    std::string got;
    char buffer[256];
    for (ssize_t n; (n = ::read(sock.get(), buffer, sizeof buffer)) > 0;) got.append(buffer, n);
    return got;
}

// One UDP exchange: a datagram to address:port, and the one that answers
// it, "" when none came.
std::string udp_ask(const std::string& address, int port) {
    nslab::Fd sock = connected_to(SOCK_DGRAM, address, port);
    char buffer[256];
    ssize_t n = -1;
    if (sock && ::send(sock.get(), "ask", 3, 0) == 3)
        n = ::recv(sock.get(), buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

// The scratch "outside": a network namespace of its own, joined to the
// scratch host by a veth pair on TEST-NET-1 (RFC 5737, never routed on
// the Internet): the host's end up0 is 192.0.2.1, the outside's eth0
// 192.0.2.2, and neither has any other route. Made from inside a
// ScratchHost; a sleeping child holds the namespace.
class ScratchOutside {
  public:
    static constexpr const char* host_address = "192.0.2.1";
    static constexpr const char* address = "192.0.2.2";

    ScratchOutside() {
        int ready[2];
        nslab::sys::check(::pipe2(ready, O_CLOEXEC), "pipe2");
        pid_ = nslab::sys::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            char byte = ::unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
            (void)!::write(ready[1], &byte, 1);
            for (;;) ::pause();
        }
        ::close(ready[1]);
        char byte = 'n';
        (void)!::read(ready[0], &byte, 1);
        ::close(ready[0]);
        if (byte != 'y')
            throw std::runtime_error("the scratch outside: unshare(CLONE_NEWNET) failed");
        netlink::Socket nl;
        netlink::add_veth_pair(nl, "up0", "eth0", pid_);
        netlink::add_address(nl, "up0", {*net_plan::parse_address(host_address), 24});
        netlink::set_up(nl, "up0");
        in_netns_of(pid_, [] {
            netlink::Socket inside;
            netlink::set_up(inside, "lo");
            netlink::add_address(inside, "eth0", {*net_plan::parse_address(address), 24});
            netlink::set_up(inside, "eth0");
            return 0;
        });
    }
    ~ScratchOutside() {
        stop_ = true;
        if (listener_) ::shutdown(listener_.get(), SHUT_RDWR);
        if (server_.joinable()) server_.join();
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    ScratchOutside(const ScratchOutside&) = delete;
    ScratchOutside& operator=(const ScratchOutside&) = delete;

    pid_t pid() const { return pid_; }

    // A server of the test's own on TCP `port` of 192.0.2.2: it answers
    // each connection with "outside saw PEER" (the source address it saw).
    void serve(int port) {
        listener_ = in_netns_of(pid_, [&] {
            nslab::Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
            sockaddr_in any{};
            any.sin_family = AF_INET;
            any.sin_port = htons(static_cast<uint16_t>(port));
            nslab::sys::check(::bind(sock.get(), reinterpret_cast<sockaddr*>(&any), sizeof any),
                              "bind in the scratch outside");
            nslab::sys::check(::listen(sock.get(), 8), "listen in the scratch outside");
            return sock;
        });
        server_ = std::thread([this] {
            while (!stop_) {
                sockaddr_in peer{};
                socklen_t length = sizeof peer;
                int client = ::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                                       SOCK_CLOEXEC);
                if (client < 0) {
                    if (errno == EINTR) continue;
                    return;
                }
                char text[INET_ADDRSTRLEN] = {};
                ::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
                const std::string line = std::string("outside saw ") + text + "\n";
                (void)!::write(client, line.data(), line.size());
                ::close(client);
            }
        });
    }

    // From the outside: what address:port answers.
    std::string fetch(const std::string& to, int port) {
        return in_netns_of(pid_, [&] { return tcp_fetch(to, port); });
    }

  private:
    pid_t pid_ = -1;
    nslab::Fd listener_;
    std::thread server_;
    std::atomic<bool> stop_{false};
};

// What nslab has in the firewall of the namespace we are in: "table ip
// nslab" and one "rule CHAIN of ID" per rule; empty when there is no table.
std::vector<std::string> nslab_firewall() {
    nslab::nftables::Context nft;
    const std::string json = nft.json_of("list table ip nslab");
    if (json.empty()) return {};
    std::vector<std::string> found{"table ip nslab"};
    for (const auto& r : nslab::nat_plan::parse_listing(json).rules)
        found.push_back("rule " + r.chain + " of " + (r.id.empty() ? "?" : r.id));
    return found;
}

std::string listed(const std::vector<std::string>& items) {
    std::string text;
    for (const auto& i : items) text += (text.empty() ? "" : ", ") + i;
    return "[" + text + "]";
}

std::string ip_forward() {
    std::string text = nslab::sys::read_file("/proc/sys/net/ipv4/ip_forward");
    return text.substr(0, text.find('\n'));
}

// The conntrack entries of the namespace we are in that have `address` at
// one end, one line each: /proc/net/nf_conntrack where the kernel has it
// (CONFIG_NF_CONNTRACK_PROCFS; read apart from the runtime's ctnetlink),
// else a ctnetlink dump. The thread's own view: the server thread of a
// ScratchOutside is elsewhere.
std::vector<std::string> conntrack_of(const std::string& address) {
    std::vector<std::string> found;
    std::string table;
    try {
        table = nslab::sys::read_file("/proc/thread-self/net/nf_conntrack");
    } catch (const std::system_error&) {
        const std::uint32_t a = *net_plan::parse_address(address);
        netlink::Socket nl(NETLINK_NETFILTER);
        for (const auto& c : netlink::connections(nl))
            if (c.source == a || c.destination == a || c.reply_source == a ||
                c.reply_destination == a)
                found.push_back(netlink::to_string(c));
        return found;
    }
    std::istringstream in(table);
    for (std::string line; std::getline(in, line);)
        if (line.find("src=" + address + " ") != std::string::npos ||
            line.find("dst=" + address + " ") != std::string::npos)
            found.push_back(line);
    return found;
}

// The IPv4 routes of the namespace we are in, "DESTINATION/MASK via GATEWAY
// dev LINK", from /proc/net/route (hex, the kernel's byte order).
std::vector<std::string> routes_here() {
    std::vector<std::string> routes;
    std::istringstream in(nslab::sys::read_file("/proc/net/route"));
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string link, destination, gateway, flags, refcnt, use, metric, mask;
        if (!(fields >> link >> destination >> gateway >> flags >> refcnt >> use >> metric >> mask))
            continue;
        auto text = [](const std::string& hex) {
            in_addr a{};
            a.s_addr = static_cast<in_addr_t>(std::stoul(hex, nullptr, 16));
            char out[INET_ADDRSTRLEN] = {};
            ::inet_ntop(AF_INET, &a, out, sizeof out);
            return std::string(out);
        };
        routes.push_back(text(destination) + "/" + text(mask) + " via " + text(gateway) + " dev " +
                         link);
    }
    return routes;
}

}  // namespace

TEST(Net, OnlyLoAndEth0InsideLoUp) {
    claim(3, "lab04 steps 2-4 (lo up; eth0 in the child)");
    ScratchHost host;
    auto c = Running::start(lab(), {}, probe({"hold"}));
    auto inside = links_of(c.container_pid());
    std::vector<std::string> seen;
    for (const auto& l : inside) seen.push_back(l.name);
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, (std::vector<std::string>{"eth0", "lo"}))
        << "expected exactly lo and eth0 in the container's namespace, observed " << names(inside);
    for (const auto& l : inside) {
        EXPECT_TRUE(l.up) << l.name << " is down inside: lo starts down in a new namespace and "
                          << "eth0 arrives down; the child must set both up";
        if (l.name == "eth0") {
            EXPECT_EQ(l.kind, "veth") << "eth0 is the container's veth end";
        }
    }
    Result r = run(lab(), {}, probe({"links"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_HAS(r.out, "link: lo up") << "the probe inside saw:\n" << r.out;
    EXPECT_HAS(r.out, "link: eth0 up") << "the probe inside saw:\n" << r.out;
}

TEST(Net, OwnNetworkNamespace) {
    claim(2, "lab04 step 1 (CLONE_NEWNET)");
    ScratchHost host;
    auto a = Running::start(lab(), {}, probe({"hold"}));
    auto b = Running::start(lab(), {}, probe({"hold"}));
    ino_t mine = namespaces_of(::getpid())["net"];
    ino_t in_a = namespaces_of(a.container_pid())["net"];
    ino_t in_b = namespaces_of(b.container_pid())["net"];
    EXPECT_NE(in_a, mine) << "the container shares the host's network namespace (net:[" << mine
                          << "])";
    EXPECT_NE(in_a, in_b) << "two containers share one network namespace";
    Result r = run(lab(), {}, probe({"ns"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_NE(key_values(r.out)["net"], std::to_string(mine))
        << "inside, /proc/self/ns/net names the host's namespace";
}

TEST(Net, NoneHasOnlyLoopbackUp) {
    claim(2, "lab04 step 2 (--net none)");
    ScratchHost host;
    Result r = run(lab(), {"--net", "none"}, probe({"links"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_EQ(r.out, "link: lo up\n") << "--net none: expected only lo, and up; the probe saw:\n"
                                      << r.out;
    EXPECT_FALSE(host_bridge()) << "--net none must not make the bridge";
    EXPECT_TRUE(host_veths().empty()) << "--net none must not make a veth";
}

TEST(Net, ContainersPingEachOtherAndTheBridge) {
    claim(4, "lab04 steps 3-4 (bridge, addresses, route)");
    ScratchHost host;
    auto a = Running::start(lab(), {}, probe({"hold"}));
    auto b = Running::start(lab(), {}, probe({"hold"}));
    std::string ip_a = ipv4_of(a.container_pid(), "eth0");
    std::string ip_b = ipv4_of(b.container_pid(), "eth0");
    ASSERT_FALSE(ip_a.empty()) << "container A's eth0 has no IPv4 address";
    ASSERT_FALSE(ip_b.empty()) << "container B's eth0 has no IPv4 address";
    EXPECT_NE(ip_a, ip_b) << "two containers got the same address";
    EXPECT_TRUE(pings(a.container_pid(), gateway()))
        << "A (" << ip_a << ") cannot ping the bridge " << gateway();
    EXPECT_TRUE(pings(a.container_pid(), ip_b))
        << "A (" << ip_a << ") cannot ping B (" << ip_b << ") across the bridge";
    EXPECT_TRUE(pings(b.container_pid(), ip_a))
        << "B (" << ip_b << ") cannot ping A (" << ip_a << ") across the bridge";
    Result r = run(lab(), {}, {"/bin/sh", "-c", "ip route"});
    EXPECT_HAS(r.out, "default via " + gateway())
        << "expected a default route via the bridge inside; `ip route` said:\n"
        << r.out << r.err;
}

TEST(Net, EveryoneCanBindPort80) {
    claim(3, "lab04 handout: ports are per namespace");
    ScratchHost host;
    nslab::Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_port = htons(80);
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&any), sizeof any), 0)
        << "the scratch host could not bind port 80: " << std::strerror(errno);
    ASSERT_EQ(::listen(listener.get(), 1), 0) << "the scratch host listens on port 80"
                                              << note("listen(2) succeeds", std::strerror(errno));
    auto a = Running::start(lab(), {}, probe({"bind", "80"}));
    auto b = Running::start(lab(), {}, probe({"bind", "80"}));
    EXPECT_TRUE(listens_on(a.container_pid(), 80)) << "/proc/PID/net/tcp of A: no listener on 80";
    EXPECT_TRUE(listens_on(b.container_pid(), 80)) << "/proc/PID/net/tcp of B: no listener on 80";
}

TEST(Net, OneHostVethPerRunningContainer) {
    claim(3, "lab04 step 3 (veth pair, host end on the bridge)");
    ScratchHost host;
    auto a = Running::start(lab(), {}, probe({"hold"}));
    auto b = Running::start(lab(), {}, probe({"hold"}));
    auto bridge = host_bridge();
    ASSERT_TRUE(bridge) << "no bridge " << net_plan::bridge_name
                        << " on the host side: " << names(links_here());
    EXPECT_TRUE(bridge->up) << "the bridge is down";
    auto veths = host_veths();
    EXPECT_EQ(veths.size(), 2u) << "two containers: expected two veths on the host side, observed "
                                << names(veths);
    for (const auto& v : veths) {
        EXPECT_EQ(v.master, bridge->index) << v.name << " is not a port of the bridge";
        EXPECT_TRUE(v.up) << v.name << " is down on the host side";
        EXPECT_LE(v.name.size(), net_plan::max_link_name)
            << "a link name fits IFNAMSIZ"
            << note("at most " + std::to_string(net_plan::max_link_name) + " characters", v.name);
    }
    for (const auto& v : links_of(a.container_pid()))
        EXPECT_NE(v.name.rfind("nsv", 0), 0u) << "the host's end " << v.name << " is inside";
}

TEST(Net, HostVethGoneWhenRuntimeExits) {
    claim(3, "lab04 step 5 (after_exit)");
    ScratchHost host;
    auto c = Running::start(lab(), {}, probe({"hold"}));
    ASSERT_EQ(host_veths().size(), 1u) << "one veth on the host side per container"
                                       << note("one veth", "links: " + names(links_here()));
    std::string address = ipv4_of(c.container_pid(), "eth0");
    // Keep the container's namespace alive past its last process, as `ip
    // netns add` or a joined process would: the pair would then outlive the
    // container unless the runtime removes its end.
    nslab::Fd keep = open_netns(c.container_pid());
    Result r = c.finish();
    EXPECT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_TRUE(host_veths().empty())
        << "the runtime has exited but the host side still holds " << names(host_veths())
        << ": a veth pair dies with its namespace only when nothing else holds it";
    EXPECT_FALSE(leased_by(address, c.runtime_pid()))
        << "the runtime exited without giving back its address lease " << address;
}

TEST(Net, NothingLeftAfterSigkillAndCleanup) {
    claim(3, "lab04 handout: nslab cleanup");
    ScratchHost host;
    auto c = Running::start(lab(), {}, probe({"hold"}));
    std::string address = ipv4_of(c.container_pid(), "eth0");
    pid_t runtime = c.runtime_pid();
    nslab::Fd keep = open_netns(c.container_pid());
    pid_t container = c.container_pid();
    c.signal_runtime(SIGKILL);
    c.finish();
    ASSERT_TRUE(gone_within(container, std::chrono::seconds(10)))
        << "the container outlived its SIGKILLed runtime (PR_SET_PDEATHSIG)";
    // (Its lease is stale now; any grader's cleanup may already have removed it.)
    auto removed = nslab::net::cleanup_stale();
    EXPECT_TRUE(host_veths().empty())
        << "after cleanup the host side still holds " << names(host_veths());
    EXPECT_FALSE(host_bridge()) << "cleanup left the unused bridge";
    EXPECT_FALSE(leased_by(address, runtime)) << "cleanup left the stale lease " << address;
}

TEST(Net, BadIpGivesOneClearLine) {
    claim(2, "lab04 handout: --ip");
    ScratchHost host;
    Result outside = run(lab(), {"--ip", "192.0.2.7/24"}, probe({"pid"}));
    EXPECT_EQ(outside.status, 2) << "an --ip outside the subnet is a bad command line";
    EXPECT_EQ(outside.err.rfind(
                  nslab::lab_program_name(lab()) + ": invalid value '192.0.2.7/24' for --ip", 0),
              0u)
        << "the error names the value and the option"
        << says(outside, "invalid value ... for --ip");
    auto a = Running::start(lab(), {}, probe({"hold"}));
    std::string taken =
        ipv4_of(a.container_pid(), "eth0") + "/" + std::to_string(net_plan::subnet().prefix);
    Result clash = run(lab(), {"--ip", taken}, probe({"pid"}));
    EXPECT_EQ(clash.status, 125) << "an --ip in use is a runtime failure";
    EXPECT_NE(clash.err.find("taken"), std::string::npos)
        << "the error says why" << says(clash, "taken");
    EXPECT_EQ(std::count(clash.err.begin(), clash.err.end(), '\n'), 1)
        << "one line" << says(clash, "one line");
    EXPECT_EQ(host_veths().size(), 1u) << "the failed run left " << names(host_veths());
}

// Part two: the way out, the way in, and what is left.

TEST(Net, ScratchOutsideRoutesNowhereElse) {
    claim(1, "lab04 handout: the scratch outside");
    ScratchHost host;
    ScratchOutside outside;
    auto c = Running::start(lab(), {}, probe({"hold"}));
    for (const auto& route : routes_here()) {
        const bool ours =
            route.find(" dev up0") != std::string::npos ||
            route.find(" dev " + std::string(net_plan::bridge_name)) != std::string::npos;
        EXPECT_TRUE(ours && route.find(" via 0.0.0.0 ") != std::string::npos &&
                    route.rfind("0.0.0.0/", 0) != 0)
            << "the scratch host may route only to the scratch outside and the bridge"
            << note("no default route, no gateway", route);
    }
    for (const auto& route : in_netns_of(outside.pid(), routes_here))
        EXPECT_TRUE(route.find(" dev eth0") != std::string::npos &&
                    route.rfind("192.0.2.0/", 0) == 0)
            << "the scratch outside may route only to its own TEST-NET link"
            << note("192.0.2.0/24 on eth0 only", route);
}

TEST(Net, ReachesTheOutsideThroughMasquerade) {
    claim(4, "lab04 step 6a (masquerade on the way out)");
    ScratchHost host;
    ScratchOutside outside;
    outside.serve(80);
    Result r = run(lab(), {}, probe({"fetch", ScratchOutside::address, "80"}));
    EXPECT_EQ(r.status, 0) << "from inside, a TCP connection to " << ScratchOutside::address
                           << ":80 (a server beyond the host) should succeed"
                           << note("connected", r.err.empty() ? status_text(r.status) : r.err);
    EXPECT_EQ(r.out, std::string("outside saw ") + ScratchOutside::host_address + "\n")
        << "the server beyond the host should see the host's address as the source (the "
           "container's is private and has no way back)"
        << note(std::string("outside saw ") + ScratchOutside::host_address,
                r.out.empty() ? "no answer" : r.out.substr(0, r.out.find('\n')));
}

TEST(Net, PublishedPortReachedFromOutside) {
    claim(4, "lab04 step 6b (DNAT on prerouting)");
    ScratchHost host;
    ScratchOutside outside;
    auto c = Running::start(lab(), {"--publish", "8080:80"}, probe({"serve", "80"}));
    const std::string got = outside.fetch(ScratchOutside::host_address, 8080);
    EXPECT_EQ(got, std::string("served ") + ScratchOutside::address + "\n")
        << "--publish 8080:80: a connection from outside to the host's port 8080 should reach "
           "the container's port 80, from the outside's own address"
        << note(std::string("served ") + ScratchOutside::address,
                got.empty() ? "no answer" : got.substr(0, got.find('\n')));
}

TEST(Net, PublishedPortReachedFromTheHostItself) {
    claim(3, "lab04 step 6b (DNAT on output)");
    ScratchHost host;
    ScratchOutside outside;
    auto c = Running::start(lab(), {"--publish", "8080:80"}, probe({"serve", "80"}));
    const std::string got = tcp_fetch(ScratchOutside::host_address, 8080);
    EXPECT_EQ(got.rfind("served ", 0), 0u)
        << "--publish 8080:80: the host itself connecting to its own port 8080 should reach the "
           "container's port 80 (packets the host makes never pass prerouting)"
        << note("served ...", got.empty() ? "no answer" : got.substr(0, got.find('\n')));
}

TEST(Net, PublishedUdpPortReached) {
    claim(3, "lab04 step 6b (/udp: a UDP rule)");
    ScratchHost host;
    ScratchOutside outside;
    auto c = Running::start(lab(), {"--publish", "5353:53/udp"}, probe({"serve-udp", "53"}));
    const std::string from_outside =
        in_netns_of(outside.pid(), [] { return udp_ask(ScratchOutside::host_address, 5353); });
    EXPECT_EQ(from_outside, std::string("served ") + ScratchOutside::address + "\n")
        << "--publish 5353:53/udp: a datagram from outside to the host's UDP port 5353 should "
           "reach the container's UDP server on 53, and its answer come back"
        << note(std::string("served ") + ScratchOutside::address,
                from_outside.empty() ? "no answer"
                                     : from_outside.substr(0, from_outside.find('\n')));
    const std::string from_host = udp_ask(ScratchOutside::host_address, 5353);
    EXPECT_EQ(from_host.rfind("served ", 0), 0u)
        << "--publish 5353:53/udp: a datagram from the host itself to its own UDP port 5353 "
           "should reach the container's server too"
        << note("served ...",
                from_host.empty() ? "no answer" : from_host.substr(0, from_host.find('\n')));
}

TEST(Net, TwoContainersPublishDifferentPorts) {
    claim(3, "lab04 step 6b (one rule per published port)");
    ScratchHost host;
    ScratchOutside outside;
    auto a = Running::start(lab(), {"--publish", "8081:80"}, probe({"serve", "80"}));
    auto b = Running::start(lab(), {"--publish", "8082:80"}, probe({"serve", "80"}));
    for (int port : {8081, 8082}) {
        const std::string got = outside.fetch(ScratchOutside::host_address, port);
        EXPECT_EQ(got, std::string("served ") + ScratchOutside::address + "\n")
            << "two containers publish 8081 and 8082 at once: port " << port
            << " should reach its container"
            << note("served " + std::string(ScratchOutside::address),
                    got.empty() ? "no answer" : got.substr(0, got.find('\n')));
    }
    Result taken = run(lab(), {"--publish", "8081:81"}, probe({"pid"}));
    EXPECT_EQ(taken.status, 2) << "a host port another container publishes is refused"
                               << note("exit 2", status_text(taken.status));
    EXPECT_EQ(taken.err.rfind(nslab::lab_program_name(lab()) +
                                  ": invalid value '8081:81/tcp' for --publish: host port "
                                  "8081/tcp is published by container ",
                              0),
              0u)
        << "the refusal names the value and who holds the port" << says(taken, "published by");
    auto veths = nslab_veths();
    EXPECT_EQ(veths.size(), 2u) << "the refused run left " << names(veths);
}

TEST(Net, NoRulesLeftAfterExit) {
    claim(3, "lab04 step 6c (the rules removed at exit)");
    ScratchHost host;
    const std::string before = ip_forward();
    {
        auto c = Running::start(lab(), {"--publish", "8080:80"}, probe({"hold"}));
        EXPECT_EQ(ip_forward(), "1") << "a running container on the bridge needs forwarding on";
        Result r = c.finish();
        EXPECT_EQ(r.status, 0) << ran(r, 0);
    }
    EXPECT_TRUE(nslab_firewall().empty())
        << "the runtime has exited: no table, chain or rule of nslab's may be left"
        << note("no table ip nslab", listed(nslab_firewall()));
    EXPECT_EQ(ip_forward(), before) << "the forwarding switch is as it was before nslab"
                                    << note("net.ipv4.ip_forward " + before, ip_forward());
}

TEST(Net, NoConntrackEntryLeftAfterExit) {
    claim(3, "lab04 step 6d (conntrack entries forgotten at exit)");
    ScratchHost host;
    ScratchOutside outside;
    outside.serve(80);
    std::string address;
    {
        auto c = Running::start(lab(), {"--publish", "8080:80"}, probe({"serve", "80"}));
        address = ipv4_of(c.container_pid(), "eth0");
        // One connection in through the published port (DNAT), one out from
        // the container's address (masquerade): the scratch host tracks both.
        const std::string in = outside.fetch(ScratchOutside::host_address, 8080);
        const std::string out =
            in_netns_of(c.container_pid(), [] { return tcp_fetch(ScratchOutside::address, 80); });
        ASSERT_FALSE(in.empty() || out.empty())
            << "a connection in through --publish 8080:80 and one out to the scratch outside"
            << note("both answered", "in: " + (in.empty() ? "no answer" : in) +
                                         ", out: " + (out.empty() ? "no answer" : out));
        ASSERT_FALSE(conntrack_of(address).empty())
            << "while the container runs, the scratch host's conntrack table tracks its "
               "connections"
            << note("entries naming " + address, "none");
        Result r = c.finish();
        EXPECT_EQ(r.status, 0) << ran(r, 0);
    }
    const auto left = conntrack_of(address);
    EXPECT_TRUE(left.empty())
        << "the runtime has exited: the host's conntrack table may hold no entry of its address "
           "(the next container with it would get the old connections' NAT)"
        << note("no entry naming " + address, left.empty() ? "" : left[0]);
}

TEST(Net, NoRulesLeftAfterSigkillAndCleanup) {
    claim(2, "lab04 handout: nslab cleanup");
    ScratchHost host;
    ScratchOutside outside;
    auto keep = Running::start(lab(), {"--publish", "8083:80"}, probe({"serve", "80"}));
    auto c = Running::start(lab(), {"--publish", "8084:80"}, probe({"serve", "80"}));
    pid_t container = c.container_pid();
    const std::string kept_address = ipv4_of(keep.container_pid(), "eth0");
    const std::string killed_address = ipv4_of(container, "eth0");
    // A connection to each (TIME_WAIT keeps its entry for two minutes).
    for (int port : {8083, 8084})
        ASSERT_FALSE(outside.fetch(ScratchOutside::host_address, port).empty())
            << "--publish " << port << ":80 answers from the scratch outside";
    c.signal_runtime(SIGKILL);
    c.finish();
    ASSERT_TRUE(gone_within(container, std::chrono::seconds(10)))
        << "the container outlived its SIGKILLed runtime (PR_SET_PDEATHSIG)";
    nslab::net::cleanup_stale();
    // The kept container's rules stay; the killed one's are gone.
    auto veths = nslab_veths();
    ASSERT_EQ(veths.size(), 1u) << "after cleanup only the kept container's veth is left: "
                                << names(veths);
    const std::string kept = veths[0].name.substr(net_plan::host_veth_prefix.size());
    for (const auto& item : nslab_firewall())
        EXPECT_TRUE(item == "table ip nslab" || item.ends_with(" of " + kept))
            << "cleanup should remove the rules of the SIGKILLed runtime's container and keep "
               "the running one's ("
            << kept << ")" << note("rules of " + kept + " only", item);
    const auto stale = conntrack_of(killed_address);
    EXPECT_TRUE(stale.empty())
        << "cleanup should forget the conntrack entries of the SIGKILLed runtime's address"
        << note("no entry naming " + killed_address, stale.empty() ? "" : stale[0]);
    EXPECT_FALSE(conntrack_of(kept_address).empty())
        << "cleanup should keep the conntrack entries of the running container"
        << note("entries naming " + kept_address, "none");
    Result r = keep.finish();
    EXPECT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_TRUE(nslab_firewall().empty())
        << "after cleanup and the last container's exit no rule of nslab's may be left"
        << note("no table ip nslab", listed(nslab_firewall()));
}

TEST(Net, HostsAndResolvConfAsGiven) {
    claim(2, "lab04 handout: /etc/hosts and resolv.conf");
    ScratchHost host;
    const std::string rootfs_hosts = nslab::sys::read_file(rootfs_dir() + "/etc/hosts");
    const std::string rootfs_resolv = nslab::sys::read_file(rootfs_dir() + "/etc/resolv.conf");
    Result r = run(lab(), {"--hostname", "web", "--dns", "192.0.2.53"},
                   {"/bin/sh", "-c",
                    "cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; "
                    "ip -4 -o addr show eth0"});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    std::vector<std::string> parts;
    for (size_t at = 0;;) {
        const size_t next = r.out.find("---\n", at);
        parts.push_back(r.out.substr(at, next == std::string::npos ? next : next - at));
        if (next == std::string::npos) break;
        at = next + 4;
    }
    ASSERT_EQ(parts.size(), 3u) << "the shell inside printed:\n" << r.out << r.err;
    const std::string& hosts = parts[0];
    const std::string& resolv = parts[1];
    std::string address;
    if (auto inet = parts[2].find("inet "); inet != std::string::npos)
        address = parts[2].substr(inet + 5, parts[2].find('/', inet) - inet - 5);
    EXPECT_HAS(hosts, "localhost") << "/etc/hosts inside keeps localhost";
    EXPECT_NE(hosts.find(address + "\tweb\n"), std::string::npos)
        << "/etc/hosts inside names the container's address and hostname"
        << note(address + "<TAB>web", hosts);
    EXPECT_EQ(resolv, "nameserver 192.0.2.53\n")
        << "--dns 192.0.2.53: /etc/resolv.conf inside holds that nameserver"
        << note("nameserver 192.0.2.53", resolv);
    std::string host_resolv;
    try {
        host_resolv = nslab::sys::read_file("/etc/resolv.conf");
    } catch (const std::system_error&) {}
    Result plain = run(lab(), {}, {"/bin/cat", "/etc/resolv.conf"});
    EXPECT_EQ(plain.out, host_resolv) << "without --dns the container gets the host's resolv.conf"
                                      << note(host_resolv, plain.out);
    EXPECT_EQ(nslab::sys::read_file(rootfs_dir() + "/etc/hosts"), rootfs_hosts)
        << "the rootfs's /etc/hosts was written to: the container's must be a bind mount";
    EXPECT_EQ(nslab::sys::read_file(rootfs_dir() + "/etc/resolv.conf"), rootfs_resolv)
        << "the rootfs's /etc/resolv.conf was written to: the container's must be a bind mount";
}

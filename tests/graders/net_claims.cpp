// Lab 04's claims: the network namespace, lo, the veth pair and the bridge.
//
// No claim touches this machine's network. The whole grader process moves
// into a scratch network namespace before its first container (the
// harness's enter_scratch_network()), so every container of every claim,
// including the earlier labs' claims that run lab 04+ with its default
// --net bridge, makes its bridge there, and it vanishes with the grader. Each Net claim goes one
// step further and plays "host" in a fresh namespace of its own
// (ScratchHost), so it sees only its own bridge and veths and the graders
// can run side by side. Traffic stays inside these namespaces.
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "nslab/cli.hpp"
#include "nslab/net_host.hpp"
#include "nslab/net_plan.hpp"
#include "nslab/netlink.hpp"
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

#include "nslab/net_host.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

#include "nslab/errors.hpp"
#include "nslab/layers/net.hpp"
#include "nslab/mount_plan.hpp"
#include "nslab/nat_plan.hpp"
#include "nslab/net_plan.hpp"
#include "nslab/netlink.hpp"
#include "nslab/nftables.hpp"
#include "nslab/parse.hpp"
#include "nslab/sys.hpp"

namespace nslab::net {

namespace {

namespace fs = std::filesystem;
using net_plan::LeaseRecord;

constexpr std::string_view new_prefix = ".new-";  // a record not yet linked to an address

bool owner_alive(const LeaseRecord& r) {
    return start_time_of(r.pid) == r.start_time;
}

std::optional<LeaseRecord> read_lease(const std::string& path) {
    try {
        return net_plan::parse_lease(sys::read_file(path));
    } catch (const std::system_error&) {
        return {};
    }
}

// The record goes into a private file first and is then linked under the
// address's name: link(2) either makes the whole lease appear at once or
// fails with EEXIST, so a lease is never seen half-written and two runtimes
// never hold one address.
bool try_link(const std::string& record, const std::string& lease) {
    if (::link(record.c_str(), lease.c_str()) == 0) return true;
    if (errno == EEXIST) return false;
    sys::fail("link(" + record + ", " + lease + ")");
}

// A new file (or an emptied one) holding `text`, mode 0644.
void create_file(const std::string& path, const std::string& text) {
    Fd fd = sys::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    sys::check(::write(fd.get(), text.data(), text.size()), "write(" + path + ")");
}

// net.ipv4.ip_forward of the namespace we are in (/proc/sys/net is per
// network namespace: a grader's scratch host has its own).
constexpr const char* ip_forward = "/proc/sys/net/ipv4/ip_forward";

bool forwarding() {
    try {
        return sys::read_file(ip_forward).starts_with("1");
    } catch (const std::system_error&) {
        return false;
    }
}

nat_plan::Listing list_table(nftables::Context& nft) {
    const std::string json = nft.json_of("list table " + std::string(nat_plan::family) + " " +
                                         std::string(nat_plan::table));
    if (json.empty()) return {};  // no table
    return nat_plan::parse_listing(json);
}

// Takes the rules of every id in `gone` out of the table, and the table when
// no rule is left, switching forwarding off again if nslab switched it on.
// The caller holds the host lock exclusive.
void remove_rules_of(nftables::Context& nft, const std::set<std::string>& gone) {
    const nat_plan::Listing listing = list_table(nft);
    if (!listing.exists) return;
    std::string text;
    bool left = false;
    for (const auto& rule : listing.rules) left |= !gone.count(rule.id);
    if (left) {
        for (const auto& id : gone) text += nat_plan::delete_text(listing, id);
    } else {
        text = "delete table " + std::string(nat_plan::family) + " " +
               std::string(nat_plan::table) + "\n";
    }
    if (text.empty()) return;
    nft.run(text);
    if (!left && listing.forwarding_was == false) sys::write_file(ip_forward, "0\n");
}

// Whether the conntrack table of the namespace we are in has any entry
// (net.netfilter.nf_conntrack_count is per namespace; no file: conntrack is
// not even loaded). Spares a netlink dump on every exit when it is empty.
bool tracks_anything() {
    try {
        return !sys::read_file("/proc/sys/net/netfilter/nf_conntrack_count").starts_with("0");
    } catch (const std::system_error&) {
        return false;
    }
}

// Deletes the entries with an end whose address `whose` picks: the
// original direction's source (what the container sent, before the
// masquerade) or the reply direction's (what a published port's DNAT sent
// to it), or the other ends, for connections the host made to it.
std::size_t forget_connections_of(const std::function<bool(std::uint32_t)>& whose) {
    if (!tracks_anything()) return 0;
    netlink::Socket nl(NETLINK_NETFILTER);
    std::size_t forgotten = 0;
    for (const auto& c : netlink::connections(nl))
        if (whose(c.source) || whose(c.destination) || whose(c.reply_source) ||
            whose(c.reply_destination))
            forgotten += netlink::delete_connection(nl, c);
    return forgotten;
}

}  // namespace

std::size_t forget_connections(std::uint32_t address) {
    try {
        return forget_connections_of([address](std::uint32_t a) { return a == address; });
    } catch (const std::exception& e) {  // a kernel without ctnetlink: the exit goes on
        std::fprintf(stderr, "nslab: the conntrack entries of %s are left (they time out): %s\n",
                     net_plan::address_text(address).c_str(), e.what());
        return 0;
    }
}

void add_nat(const Config& cfg, State& state, std::vector<nat_plan::Rule> rules) {
    for (auto& r : nat_plan::forward_rules(state.lease.address().address))
        rules.push_back(std::move(r));
    HostLock busy(HostLock::Mode::exclusive);  // one runtime at a time edits the table
    nftables::Context nft;
    const nat_plan::Listing listing = list_table(nft);
    for (const PortMapping& p : cfg.publish)
        if (auto holder = nat_plan::holder_of(listing, p))
            parse::invalid("--publish", nat_plan::to_string(p),
                           "host port " + std::to_string(p.host) + (p.udp ? "/udp" : "/tcp") +
                               " is published by container " + *holder + " already");
    std::string text;
    const bool was_on = forwarding();
    if (!listing.exists) text = nat_plan::table_text(was_on);
    text += nat_plan::rules_text(cfg.id, rules);
    nft.run(text);  // one transaction: all of it, or nothing
    state.nat_id = cfg.id;
    if (!was_on) sys::write_file(ip_forward, "1\n");
}

void remove_nat(State& state) {
    if (state.nat_id.empty()) return;
    try {
        HostLock busy(HostLock::Mode::exclusive);
        nftables::Context nft;
        remove_rules_of(nft, {state.nat_id});
    } catch (const std::exception& e) {
        std::fprintf(stderr,
                     "nslab: the rules of container %s are left (`nslab cleanup` "
                     "removes them): %s\n",
                     state.nat_id.c_str(), e.what());
    }
    state.nat_id.clear();
}

void write_name_files(const Config& cfg, State& state) {
    const std::string dir = std::string(files_dir) + "/" + cfg.id;
    sys::mkdir_p(dir, 0755);
    state.files_dir = dir;  // from here on, remove_name_files removes it
    std::string host_resolv_conf;
    try {
        host_resolv_conf = sys::read_file("/etc/resolv.conf");
    } catch (const std::system_error&) {}  // a host without one: an empty file
    create_file(dir + "/hosts", net_plan::hosts_text(state.lease.address().address,
                                                     cfg.hostname.empty() ? cfg.id : cfg.hostname));
    create_file(dir + "/resolv.conf", net_plan::resolv_conf_text(cfg.dns, host_resolv_conf));
}

NameFiles open_name_files(const State& state) {
    return {mount_plan::detached_copy(state.files_dir + "/hosts"),
            mount_plan::detached_copy(state.files_dir + "/resolv.conf")};
}

void bind_name_files(const NameFiles& files) {
    // A rootfs without the file (an image without /etc/resolv.conf) keeps
    // its lack: nothing is ever created in the rootfs.
    for (const auto& [fd, target] :
         {std::pair{&files.hosts, "/etc/hosts"}, std::pair{&files.resolv_conf, "/etc/resolv.conf"}})
        if (sys::exists(target)) mount_plan::attach(*fd, target);
}

void remove_name_files(State& state) {
    if (state.files_dir.empty()) return;
    std::error_code ignored;
    fs::remove_all(state.files_dir, ignored);
    state.files_dir.clear();
}

Lease Lease::take(const std::string& dir, const Cidr& subnet, std::optional<Cidr> wanted,
                  const std::string& veth) {
    if (wanted) {
        std::string why = net_plan::refuse_requested(subnet, *wanted);
        if (!why.empty()) parse::invalid("--ip", parse::to_string(*wanted), why);
    }
    sys::mkdir_p(dir, 0755);
    const LeaseRecord me{::getpid(), start_time_of(::getpid()).value_or(0), veth};
    const std::string record =
        dir + "/" + std::string(new_prefix) + std::to_string(me.pid) + "-" + veth;
    create_file(record, net_plan::format_lease(me));
    ScopeGuard remove_record([&] { ::unlink(record.c_str()); });

    Lease lease;
    lease.gateway_ = net_plan::bridge_address(subnet);
    auto path_of = [&](std::uint32_t a) { return dir + "/" + net_plan::address_text(a); };
    if (wanted) {
        if (!try_link(record, path_of(wanted->address))) {
            auto owner = read_lease(path_of(wanted->address));
            throw std::runtime_error(
                "--ip " + parse::to_string(*wanted) + ": the address is taken (" +
                path_of(wanted->address) +
                (owner ? ", runtime PID " + std::to_string(owner->pid) : std::string()) + ")");
        }
        lease.address_ = *wanted;
    } else {
        std::set<std::uint32_t> taken;
        for (const auto& entry : fs::directory_iterator(dir))
            if (auto a = net_plan::parse_address(entry.path().filename().string()))
                taken.insert(*a);
        for (;;) {
            auto candidate = net_plan::first_free(subnet, taken);
            if (!candidate)
                throw std::runtime_error("no free address left in " + parse::to_string(subnet) +
                                         " (see " + dir + "; `nslab cleanup` removes stale ones)");
            if (try_link(record, path_of(*candidate))) {
                lease.address_ = {*candidate, subnet.prefix};
                break;
            }
            taken.insert(*candidate);  // another runtime was first: try the next
        }
    }
    lease.path_ = path_of(lease.address_.address);
    lease.owner_ = me.pid;
    return lease;
}

Lease::Lease(Lease&& other) noexcept
    : path_(std::exchange(other.path_, {})),
      owner_(other.owner_),
      address_(other.address_),
      gateway_(other.gateway_) {}

Lease& Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::exchange(other.path_, {});
        owner_ = other.owner_;
        address_ = other.address_;
        gateway_ = other.gateway_;
    }
    return *this;
}

void Lease::release() {
    // Only the runtime that took it gives it back, not a forked copy of it.
    if (!path_.empty() && owner_ == ::getpid()) ::unlink(path_.c_str());
    path_.clear();
}

bool bridged(const Config& cfg) {
    return cfg.has(Layer::net) && cfg.net == NetMode::bridge;
}

State before_clone(const Config& cfg) {
    State state;
    if (bridged(cfg)) state.lease = take_lease(cfg);
    return state;
}

Lease take_lease(const Config& cfg) {
    return Lease::take(lease_dir, net_plan::subnet(), cfg.ip, net_plan::host_veth_name(cfg.id));
}

HostLock::HostLock(Mode mode) {
    sys::mkdir_p(run_dir, 0755);
    const std::string path = std::string(run_dir) + "/net.lock";
    fd_ = sys::open(path, O_RDWR | O_CREAT, 0644);
    int operation = mode == Mode::shared ? LOCK_SH : LOCK_EX;
    while (::flock(fd_.get(), operation) == -1)
        if (errno != EINTR) sys::fail("flock(" + path + ")");
}

std::vector<std::string> cleanup_stale() {
    std::vector<std::string> removed;
    HostLock lock(HostLock::Mode::exclusive);

    std::set<std::string> live_veths;
    std::map<std::uint32_t, std::string> live_leases;  // address: its veth
    std::error_code no_dir;
    for (const auto& entry : fs::directory_iterator(lease_dir, no_dir)) {
        const std::string name = entry.path().filename().string();
        const std::string path = entry.path().string();
        if (name.starts_with(new_prefix)) {
            // ".new-PID-veth": a record its runtime had not linked yet.
            pid_t pid = std::atoi(name.c_str() + new_prefix.size());
            if (pid > 0 && !start_time_of(pid) && ::unlink(path.c_str()) == 0)
                removed.push_back("removed unfinished lease record " + path);
            continue;
        }
        auto record = read_lease(path);
        if (record && owner_alive(*record)) {
            live_veths.insert(record->veth);
            if (auto a = net_plan::parse_address(name)) live_leases.emplace(*a, record->veth);
            continue;
        }
        if (::unlink(path.c_str()) == 0)
            removed.push_back("removed stale lease " + path +
                              (record ? " (runtime PID " + std::to_string(record->pid) + " is gone)"
                                      : std::string(" (unreadable)")));
    }

    // The /etc/hosts and resolv.conf of containers whose runtime is gone.
    for (const auto& entry : fs::directory_iterator(files_dir, no_dir)) {
        const std::string id = entry.path().filename().string();
        if (live_veths.count(std::string(net_plan::host_veth_prefix) + id)) continue;
        std::error_code ignored;
        if (fs::remove_all(entry.path(), ignored) > 0)
            removed.push_back("removed " + entry.path().string() + " (no live lease)");
    }

    // The rules of containers whose runtime is gone (no live lease names
    // their veth), then the table if nothing is left in it.
    {
        nftables::Context nft;
        std::set<std::string> gone;
        for (const auto& id : nat_plan::ids(list_table(nft)))
            if (!live_veths.count(net_plan::host_veth_name(id))) gone.insert(id);
        if (!gone.empty()) {
            remove_rules_of(nft, gone);
            for (const auto& id : gone)
                removed.push_back("removed the nftables rules of container " + id +
                                  " (no live lease)");
        }
    }

    netlink::Socket nl;
    std::set<std::string> links_here;
    for (const auto& link : netlink::links(nl)) {
        links_here.insert(link.name);
        if (link.kind == "veth" && net_plan::is_host_veth_name(link.name) &&
            !live_veths.count(link.name) && netlink::delete_link(nl, link.name))
            removed.push_back("removed veth " + link.name + " (no live lease)");
    }

    // The conntrack entries of the subnet's addresses that no live container
    // plugged in here holds: a killed runtime's connections, which would
    // otherwise live on for their timeout and NAT packets for the next
    // holder of the address by an old rule. A live lease counts only with
    // its veth in this namespace (the lease directory is the whole
    // machine's; a scratch host of a grader sees only its own containers),
    // and no container can plug in while we hold the lock.
    const Cidr subnet = net_plan::subnet();
    std::set<std::uint32_t> in_use{net_plan::bridge_address(subnet).address};
    for (const auto& [address, veth] : live_leases)
        if (links_here.count(veth)) in_use.insert(address);
    try {
        if (std::size_t n = forget_connections_of(
                [&](std::uint32_t a) { return net_plan::contains(subnet, a) && !in_use.count(a); }))
            removed.push_back("removed " + std::to_string(n) +
                              " conntrack entries of addresses no live container holds");
    } catch (const std::exception& e) {
        removed.push_back(std::string("left the conntrack entries of stale addresses: ") +
                          e.what());
    }

    const std::string bridge(net_plan::bridge_name);
    if (auto found = netlink::find_link(nl, bridge)) {
        bool has_ports = false;
        for (const auto& link : netlink::links(nl)) has_ports |= link.master == found->index;
        if (!has_ports && netlink::delete_link(nl, bridge))
            removed.push_back("removed bridge " + bridge + " (no ports left)");
    }
    return removed;
}

std::string owner_record(pid_t pid) {
    return "pid=" + std::to_string(pid) +
           " start=" + std::to_string(start_time_of(pid).value_or(0)) + "\n";
}

bool owner_alive(std::string_view record) {
    long long pid = 0;
    unsigned long long start = 0;
    if (std::sscanf(std::string(record).c_str(), "pid=%lld start=%llu", &pid, &start) != 2 ||
        pid <= 0)
        return false;
    return start_time_of(static_cast<pid_t>(pid)) == start;
}

std::optional<unsigned long long> start_time_of(pid_t pid) {
    try {
        return net_plan::start_time_from_stat(
            sys::read_file("/proc/" + std::to_string(pid) + "/stat"));
    } catch (const std::system_error&) {
        return {};  // no such process
    }
}

}  // namespace nslab::net

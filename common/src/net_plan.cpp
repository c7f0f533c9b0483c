#include "nslab/net_plan.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "nslab/errors.hpp"
#include "nslab/parse.hpp"
#include "nslab/procfs.hpp"

namespace nslab::net_plan {

namespace {

std::uint32_t mask_of(int prefix) {
    return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
}
std::uint32_t network_of(const Cidr& c) {
    return c.address & mask_of(c.prefix);
}
std::uint32_t broadcast_of(const Cidr& c) {
    return network_of(c) | ~mask_of(c.prefix);
}

template <typename T>
std::optional<T> number(std::string_view text) {
    T value{};
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || text.empty()) return {};
    return value;
}

}  // namespace

Cidr subnet_from(std::string_view text) {
    Cidr c = parse::cidr(subnet_variable, text);
    if (c.prefix > 29)
        parse::invalid(subnet_variable, text,
                       "the prefix must be at most /29 (a bridge and some containers)");
    if (c.address != network_of(c))
        parse::invalid(
            subnet_variable, text,
            "the host bits must be zero, as in " + parse::to_string({network_of(c), c.prefix}));
    return c;
}

Cidr subnet() {
    const char* text = std::getenv(std::string(subnet_variable).c_str());
    return subnet_from(text && *text ? text : default_subnet);
}

Cidr bridge_address(const Cidr& subnet) {
    return {network_of(subnet) + 1, subnet.prefix};
}

bool contains(const Cidr& subnet, std::uint32_t address) {
    return (address & mask_of(subnet.prefix)) == network_of(subnet);
}

std::string refuse_requested(const Cidr& subnet, const Cidr& wanted) {
    const std::string where = " (the subnet is " + parse::to_string(subnet) + "; " +
                              std::string(subnet_variable) + " changes it)";
    if (!contains(subnet, wanted.address)) return "the address is outside the subnet" + where;
    if (wanted.prefix != subnet.prefix)
        return "the prefix must be the subnet's, /" + std::to_string(subnet.prefix) + where;
    if (wanted.address == network_of(subnet)) return "that is the network address" + where;
    if (wanted.address == broadcast_of(subnet)) return "that is the broadcast address" + where;
    if (wanted.address == bridge_address(subnet).address)
        return "that is the bridge's address" + where;
    return {};
}

std::optional<std::uint32_t> first_free(const Cidr& subnet, const std::set<std::uint32_t>& taken) {
    for (std::uint32_t a = bridge_address(subnet).address + 1; a < broadcast_of(subnet); ++a)
        if (!taken.count(a)) return a;
    return {};
}

std::string host_veth_name(std::string_view container_id) {
    std::string name = std::string(host_veth_prefix) + std::string(container_id);
    if (name.size() > max_link_name)
        throw std::invalid_argument("interface name '" + name + "' is longer than 15 bytes");
    return name;
}

bool is_host_veth_name(std::string_view name) {
    return name.size() > host_veth_prefix.size() &&
           name.substr(0, host_veth_prefix.size()) == host_veth_prefix;
}

std::string address_text(std::uint32_t address) {
    std::string text = parse::to_string({address, 32});
    return text.substr(0, text.find('/'));
}

std::string hosts_text(std::uint32_t address, std::string_view hostname) {
    return "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
           address_text(address) + "\t" + std::string(hostname) + "\n";
}

std::string resolv_conf_text(const std::vector<std::uint32_t>& dns, std::string_view host_file) {
    if (dns.empty()) return std::string(host_file);
    std::string text;
    for (std::uint32_t a : dns) text += "nameserver " + address_text(a) + "\n";
    return text;
}

std::optional<std::uint32_t> parse_address(std::string_view text) {
    in_addr parsed{};
    if (::inet_pton(AF_INET, std::string(text).c_str(), &parsed) != 1) return {};
    return ntohl(parsed.s_addr);
}

std::string format_lease(const LeaseRecord& r) {
    return "pid=" + std::to_string(r.pid) + " start=" + std::to_string(r.start_time) +
           " veth=" + r.veth + "\n";
}

std::optional<LeaseRecord> parse_lease(std::string_view text) {
    LeaseRecord r;
    bool has_pid = false, has_start = false;
    std::istringstream in{std::string(text)};
    for (std::string field; in >> field;) {
        auto equals = field.find('=');
        if (equals == std::string::npos) return {};
        std::string_view key = std::string_view(field).substr(0, equals);
        std::string_view value = std::string_view(field).substr(equals + 1);
        if (key == "pid") {
            auto pid = number<pid_t>(value);
            if (!pid || *pid <= 0) return {};
            r.pid = *pid;
            has_pid = true;
        } else if (key == "start") {
            auto start = number<unsigned long long>(value);
            if (!start) return {};
            r.start_time = *start;
            has_start = true;
        } else if (key == "veth") {
            r.veth = std::string(value);
        }
    }
    if (!has_pid || !has_start) return {};
    return r;
}

std::optional<unsigned long long> start_time_from_stat(std::string_view text) {
    // A zombie (Z) or a dying process (X) has exited: it holds nothing any
    // more, though its parent has not reaped it (a PID 1 that never does).
    const auto stat = procfs::parse_stat(text);
    if (!stat || stat->state == 'Z' || stat->state == 'X') return {};
    return stat->start_time;
}

}  // namespace nslab::net_plan

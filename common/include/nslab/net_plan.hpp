// Lab 04's plan: which subnet, which names, which address. Pure functions,
// unit-tested without root; the layer file and net_host apply them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/config.hpp"

namespace nslab::net_plan {

inline constexpr std::string_view bridge_name = "nslab0";  // the host's docker0
inline constexpr std::string_view container_link = "eth0";
inline constexpr std::string_view host_veth_prefix = "nsv";
inline constexpr std::string_view default_subnet = "10.88.0.0/16";
inline constexpr std::string_view subnet_variable = "NSLAB_SUBNET";
inline constexpr size_t max_link_name = 15;  // IFNAMSIZ - 1

// The subnet from NSLAB_SUBNET's text ("10.88.0.0/16"); the host bits must
// be zero and the prefix at most /29 (a bridge and some containers).
// Throws UsageError naming NSLAB_SUBNET.
Cidr subnet_from(std::string_view text);
// The subnet in force: $NSLAB_SUBNET, else the default.
Cidr subnet();

// The bridge takes the subnet's first host address: the containers' gateway.
Cidr bridge_address(const Cidr& subnet);
bool contains(const Cidr& subnet, std::uint32_t address);

// Why --ip cannot be used in this subnet ("" when it can): outside it, a
// different prefix, the network or broadcast address, or the bridge's.
std::string refuse_requested(const Cidr& subnet, const Cidr& wanted);

// The lowest host address after the bridge's that is not taken.
std::optional<std::uint32_t> first_free(const Cidr& subnet, const std::set<std::uint32_t>& taken);

// "nsv" + the container id: unique per container, at most 15 bytes.
// Throws std::invalid_argument when the id would make it longer.
std::string host_veth_name(std::string_view container_id);
bool is_host_veth_name(std::string_view name);

std::string address_text(std::uint32_t address);  // "10.88.0.2"

// The container's /etc/hosts, as Docker writes it: localhost, then its
// address and hostname.
std::string hosts_text(std::uint32_t address, std::string_view hostname);
// Its /etc/resolv.conf: one nameserver line per --dns address, else the
// host's file as it is.
std::string resolv_conf_text(const std::vector<std::uint32_t>& dns, std::string_view host_file);
std::optional<std::uint32_t> parse_address(std::string_view text);

// A lease file (/run/nslab/leases/<address>) names its owner, so that
// `nslab cleanup` can tell a stale lease (owner gone) from a live one. The
// start time (field 22 of /proc/PID/stat) tells a reused PID apart.
struct LeaseRecord {
    pid_t pid = 0;
    unsigned long long start_time = 0;
    std::string veth;
    bool operator==(const LeaseRecord&) const = default;
};
std::string format_lease(const LeaseRecord& record);  // "pid=1 start=2 veth=nsv..\n"
std::optional<LeaseRecord> parse_lease(std::string_view text);

// Field 22 of a /proc/PID/stat text (the command name may hold spaces and
// parentheses, so count from the last ')'); nothing for a process that has
// exited (a zombie: state Z or X), since it owns nothing any more.
std::optional<unsigned long long> start_time_from_stat(std::string_view text);

}  // namespace nslab::net_plan

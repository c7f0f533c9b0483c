// Lab 04, part two: the table of nslab's own in nftables (`ip nslab`), as
// text libnftables reads. Pure functions, unit-tested without root; the
// layer file says what each container's rules mean (step 6), net_host.cpp
// applies them through libnftables (nftables.hpp).
//
// One table, shared by every container on this host: its base chains hook
// prerouting, output and postrouting (nat) and forward (filter). Each rule
// belongs to one container and carries its id in its comment, so a runtime
// removes exactly its own rules at exit and `nslab cleanup` those of a
// SIGKILLed one; the last runtime out removes the table.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/config.hpp"

namespace nslab::nat_plan {

inline constexpr std::string_view family = "ip";
inline constexpr std::string_view table = "nslab";
inline constexpr std::string_view tag_prefix = "nslab ";  // comment "nslab ID [tcp/8080]"

// "8080:80", "8080:80/tcp", "5353:53/udp": one --publish value. Ports are
// 1..65535. Throws UsageError naming --publish and the value.
PortMapping parse_publish(std::string_view text);
std::string to_string(const PortMapping& p);  // "8080:80/tcp"

// One rule of a container: the chain it goes in and what it says in nft's
// language ("ip saddr 10.88.0.2 masquerade"), without the tag.
struct Rule {
    std::string chain;  // prerouting, output, postrouting or forward
    std::string text;
    std::optional<PortMapping> publish;  // a DNAT rule: the host port it takes
    bool operator==(const Rule&) const = default;
};

// The table and its base chains, made when missing. `forwarding_was` is
// the host's net.ipv4.ip_forward before nslab's first container. When it
// was off, nslab turns it on and the forward chain's policy is drop, so the
// host forwards only what nslab's rules accept; when it was on, the policy
// is accept and the host's own forwarding is left alone. The policy is thus
// the record the last one out restores ip_forward from.
std::string table_text(bool forwarding_was);

// What the runtime adds for every container besides the lab's rules: the
// forward chain accepts what the container sends and what answers it.
std::vector<Rule> forward_rules(std::uint32_t address);

// "add rule ip nslab CHAIN TEXT comment "nslab ID[ tcp/8080]"", one line each.
std::string rules_text(std::string_view id, const std::vector<Rule>& rules);

// What `list table ip nslab` says in JSON (libnftables-json(5)), as far as
// nslab needs it.
struct Listed {
    std::string chain;
    std::uint64_t handle = 0;
    std::string id;                      // from the tag; "" for a rule not tagged by nslab
    std::optional<PortMapping> publish;  // from the tag
};
struct Listing {
    bool exists = false;
    std::optional<bool> forwarding_was;  // from the forward chain's policy
    std::vector<Listed> rules;
};
// Throws std::runtime_error when the text is not such a listing.
Listing parse_listing(std::string_view json);

// "delete rule ip nslab CHAIN handle N" for each rule whose id is `id`.
std::string delete_text(const Listing& listing, std::string_view id);
// Whether a rule of an id other than `id` is left once its own are gone.
bool others_left(const Listing& listing, std::string_view id);
// The container id holding host port p (same protocol), if one does.
std::optional<std::string> holder_of(const Listing& listing, const PortMapping& p);
// The ids with rules in the table.
std::set<std::string> ids(const Listing& listing);

}  // namespace nslab::nat_plan

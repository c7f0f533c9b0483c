#include "nslab/nat_plan.hpp"

#include <charconv>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "nslab/net_plan.hpp"
#include "nslab/parse.hpp"

namespace nslab::nat_plan {

namespace {

constexpr std::string_view option = "--publish";

std::optional<std::uint16_t> port(std::string_view text) {
    unsigned value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value == 0 ||
        value > 65535)
        return {};
    return static_cast<std::uint16_t>(value);
}

std::string protocol(const PortMapping& p) {
    return p.udp ? "udp" : "tcp";
}

// "tcp/8080": the host port a DNAT rule takes, as its tag says it.
std::string port_tag(const PortMapping& p) {
    return protocol(p) + "/" + std::to_string(p.host);
}

// "nslab ID" or "nslab ID tcp/8080" back into its parts; nothing for a
// comment nslab did not write.
std::optional<Listed> parse_tag(std::string_view comment) {
    if (!comment.starts_with(tag_prefix)) return {};
    std::istringstream in{std::string(comment.substr(tag_prefix.size()))};
    Listed l;
    std::string port_text;
    if (!(in >> l.id)) return {};
    if (in >> port_text) {
        const size_t slash = port_text.find('/');
        if (slash == std::string::npos) return {};
        auto host = port(std::string_view(port_text).substr(slash + 1));
        const std::string proto = port_text.substr(0, slash);
        if (!host || (proto != "tcp" && proto != "udp")) return {};
        l.publish = PortMapping{*host, 0, proto == "udp"};
    }
    return l;
}

}  // namespace

PortMapping parse_publish(std::string_view text) {
    std::string_view ports = text;
    PortMapping p;
    if (const size_t slash = text.find('/'); slash != std::string_view::npos) {
        const std::string_view proto = text.substr(slash + 1);
        if (proto != "tcp" && proto != "udp")
            parse::invalid(option, text, "the protocol must be tcp or udp");
        p.udp = proto == "udp";
        ports = text.substr(0, slash);
    }
    const size_t colon = ports.find(':');
    if (colon == std::string_view::npos)
        parse::invalid(option, text, "expected HOSTPORT:CONTAINERPORT[/tcp|/udp]");
    auto host = port(ports.substr(0, colon));
    auto container = port(ports.substr(colon + 1));
    if (!host || !container) parse::invalid(option, text, "a port is a number from 1 to 65535");
    p.host = *host;
    p.container = *container;
    return p;
}

std::string to_string(const PortMapping& p) {
    return std::to_string(p.host) + ":" + std::to_string(p.container) + "/" + protocol(p);
}

std::string table_text(bool forwarding_was) {
    const std::string t = "ip nslab";
    return "add table " + t + "\n" + "add chain " + t +
           " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n" +
           "add chain " + t + " output { type nat hook output priority -100; policy accept; }\n" +
           "add chain " + t +
           " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n" +
           "add chain " + t + " forward { type filter hook forward priority filter; policy " +
           (forwarding_was ? "accept" : "drop") + "; }\n";
}

std::vector<Rule> forward_rules(std::uint32_t address) {
    const std::string a = net_plan::address_text(address);
    return {{"forward", "ip saddr " + a + " accept", {}},
            {"forward", "ip daddr " + a + " ct state established,related accept", {}},
            {"forward", "ip daddr " + a + " ct status dnat accept", {}}};
}

std::string rules_text(std::string_view id, const std::vector<Rule>& rules) {
    std::string text;
    for (const Rule& r : rules)
        text += "add rule " + std::string(family) + " " + std::string(table) + " " + r.chain + " " +
                r.text + " comment \"" + std::string(tag_prefix) + std::string(id) +
                (r.publish ? " " + port_tag(*r.publish) : std::string()) + "\"\n";
    return text;
}

Listing parse_listing(std::string_view text) {
    Listing listing;
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(std::string("nftables listing: ") + e.what());
    }
    if (!json.is_object() || !json.contains("nftables") || !json["nftables"].is_array())
        throw std::runtime_error("nftables listing: no \"nftables\" array");
    for (const auto& item : json["nftables"]) {
        if (item.contains("table")) listing.exists = true;
        if (item.contains("chain")) {
            const auto& c = item["chain"];
            if (c.value("name", "") == "forward")
                listing.forwarding_was = c.value("policy", "") == "accept";
        }
        if (!item.contains("rule")) continue;
        const auto& r = item["rule"];
        Listed l;
        if (auto tag = parse_tag(r.value("comment", ""))) l = *tag;
        l.chain = r.value("chain", "");
        l.handle = r.value("handle", std::uint64_t{0});
        listing.rules.push_back(l);
    }
    return listing;
}

std::string delete_text(const Listing& listing, std::string_view id) {
    std::string text;
    for (const Listed& l : listing.rules)
        if (l.id == id)
            text += "delete rule " + std::string(family) + " " + std::string(table) + " " +
                    l.chain + " handle " + std::to_string(l.handle) + "\n";
    return text;
}

bool others_left(const Listing& listing, std::string_view id) {
    for (const Listed& l : listing.rules)
        if (l.id != id) return true;
    return false;
}

std::optional<std::string> holder_of(const Listing& listing, const PortMapping& p) {
    for (const Listed& l : listing.rules)
        if (l.publish && l.publish->host == p.host && l.publish->udp == p.udp) return l.id;
    return {};
}

std::set<std::string> ids(const Listing& listing) {
    std::set<std::string> found;
    for (const Listed& l : listing.rules)
        if (!l.id.empty()) found.insert(l.id);
    return found;
}

}  // namespace nslab::nat_plan

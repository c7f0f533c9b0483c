#include "nslab/nat_plan.hpp"

#include <gtest/gtest.h>

#include "nslab/errors.hpp"
#include "nslab/net_plan.hpp"

using namespace nslab;
using namespace nslab::nat_plan;

namespace {
std::string refusal(const char* text) {
    try {
        parse_publish(text);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "accepted";
}
}  // namespace

TEST(NatPlanPublish, ParsesPortsAndProtocol) {
    EXPECT_EQ(parse_publish("8080:80"), (PortMapping{8080, 80, false}));
    EXPECT_EQ(parse_publish("8080:80/tcp"), (PortMapping{8080, 80, false}));
    EXPECT_EQ(parse_publish("5353:53/udp"), (PortMapping{5353, 53, true}));
    EXPECT_EQ(parse_publish("65535:1"), (PortMapping{65535, 1, false}));
    EXPECT_EQ(to_string(parse_publish("5353:53/udp")), "5353:53/udp");
}

TEST(NatPlanPublish, RefusesWithOneLineNamingTheValue) {
    EXPECT_EQ(refusal("0:80"),
              "invalid value '0:80' for --publish: a port is a number from 1 to 65535");
    EXPECT_EQ(refusal("70000:80"),
              "invalid value '70000:80' for --publish: a port is a number from 1 to 65535");
    EXPECT_EQ(refusal("a:b"),
              "invalid value 'a:b' for --publish: a port is a number from 1 to 65535");
    EXPECT_EQ(refusal("8080"),
              "invalid value '8080' for --publish: expected HOSTPORT:CONTAINERPORT[/tcp|/udp]");
    EXPECT_EQ(refusal("8080:80/sctp"),
              "invalid value '8080:80/sctp' for --publish: the protocol must be tcp or udp");
    EXPECT_NE(refusal("8080:"), "accepted");
    EXPECT_NE(refusal("-1:80"), "accepted");
    EXPECT_NE(refusal("80:80:80"), "accepted");
}

TEST(NatPlanTable, ForwardPolicyRecordsTheHostsForwarding) {
    const std::string off = table_text(false);
    EXPECT_NE(off.find("add table ip nslab\n"), std::string::npos) << off;
    EXPECT_NE(off.find("hook prerouting"), std::string::npos) << off;
    EXPECT_NE(off.find("hook output"), std::string::npos) << off;
    EXPECT_NE(off.find("hook postrouting"), std::string::npos) << off;
    EXPECT_NE(off.find("forward { type filter hook forward priority filter; policy drop; }"),
              std::string::npos)
        << off;
    EXPECT_NE(table_text(true).find("policy accept; }\n"), std::string::npos);
}

TEST(NatPlanRules, EveryRuleIsTaggedWithItsContainer) {
    const std::uint32_t a = *net_plan::parse_address("10.88.0.2");
    std::vector<Rule> rules = forward_rules(a);
    rules.push_back({"prerouting", "tcp dport 8080 dnat to 10.88.0.2:80", PortMapping{8080, 80}});
    const std::string text = rules_text("abc123", rules);
    EXPECT_EQ(text,
              "add rule ip nslab forward ip saddr 10.88.0.2 accept comment \"nslab abc123\"\n"
              "add rule ip nslab forward ip daddr 10.88.0.2 ct state established,related accept "
              "comment \"nslab abc123\"\n"
              "add rule ip nslab forward ip daddr 10.88.0.2 ct status dnat accept comment "
              "\"nslab abc123\"\n"
              "add rule ip nslab prerouting tcp dport 8080 dnat to 10.88.0.2:80 comment "
              "\"nslab abc123 tcp/8080\"\n");
}

namespace {
// What libnftables 1.0.6 printed for `list table ip nslab` (trimmed).
constexpr const char* listing_json = R"({"nftables": [
 {"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
 {"table": {"family": "ip", "name": "nslab", "handle": 1}},
 {"chain": {"family": "ip", "table": "nslab", "name": "prerouting", "handle": 1, "type": "nat",
            "hook": "prerouting", "prio": -100, "policy": "accept"}},
 {"chain": {"family": "ip", "table": "nslab", "name": "forward", "handle": 4, "type": "filter",
            "hook": "forward", "prio": 0, "policy": "drop"}},
 {"rule": {"family": "ip", "table": "nslab", "chain": "prerouting", "handle": 6,
           "comment": "nslab abc tcp/8080", "expr": []}},
 {"rule": {"family": "ip", "table": "nslab", "chain": "postrouting", "handle": 5,
           "comment": "nslab abc", "expr": []}},
 {"rule": {"family": "ip", "table": "nslab", "chain": "postrouting", "handle": 9,
           "comment": "nslab def", "expr": []}},
 {"rule": {"family": "ip", "table": "nslab", "chain": "forward", "handle": 10, "expr": []}}
]})";
}  // namespace

TEST(NatPlanListing, ReadsTagsHandlesAndPolicy) {
    Listing l = parse_listing(listing_json);
    EXPECT_TRUE(l.exists);
    ASSERT_TRUE(l.forwarding_was.has_value());
    EXPECT_FALSE(*l.forwarding_was);
    ASSERT_EQ(l.rules.size(), 4u);
    EXPECT_EQ(l.rules[0].id, "abc");
    EXPECT_EQ(l.rules[0].handle, 6u);
    EXPECT_EQ(l.rules[0].publish, (PortMapping{8080, 0, false}));
    EXPECT_EQ(l.rules[3].id, "");  // not nslab's tag
    EXPECT_EQ(ids(l), (std::set<std::string>{"abc", "def"}));
    EXPECT_EQ(holder_of(l, PortMapping{8080, 80, false}), "abc");
    EXPECT_FALSE(holder_of(l, PortMapping{8080, 80, true}));  // udp/8080 is free
    EXPECT_FALSE(holder_of(l, PortMapping{8081, 80, false}));
    EXPECT_EQ(delete_text(l, "abc"),
              "delete rule ip nslab prerouting handle 6\n"
              "delete rule ip nslab postrouting handle 5\n");
    EXPECT_TRUE(others_left(l, "abc"));
    EXPECT_THROW(parse_listing("not json"), std::runtime_error);
    EXPECT_THROW(parse_listing("{}"), std::runtime_error);
}

TEST(NetPlanNameFiles, HostsAndResolvConf) {
    const std::uint32_t a = *net_plan::parse_address("10.88.0.7");
    EXPECT_EQ(net_plan::hosts_text(a, "web"),
              "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.88.0.7\tweb\n");
    EXPECT_EQ(net_plan::resolv_conf_text({}, "nameserver 9.9.9.9\nsearch lan\n"),
              "nameserver 9.9.9.9\nsearch lan\n");
    EXPECT_EQ(net_plan::resolv_conf_text(
                  {*net_plan::parse_address("192.0.2.53"), *net_plan::parse_address("192.0.2.54")},
                  "nameserver 9.9.9.9\n"),
              "nameserver 192.0.2.53\nnameserver 192.0.2.54\n");
}

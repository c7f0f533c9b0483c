// nslab graph's DOT, from hand-made snapshots: a host, a container with its
// own user and network namespaces joined to the host by a veth on a bridge,
// and a PID namespace nested inside the container's.
#include <gtest/gtest.h>

#include "nslab/ns_graph.hpp"

using namespace nslab::ns_graph;

namespace {

Snapshot two_levels() {
    Snapshot s;
    s.init_pid = 1;
    s.processes = {
        {1, 0, "systemd", {1}, {{"pid", 100}, {"user", 200}, {"net", 300}}},
        {4242, 4200, "sh", {4242, 1}, {{"pid", 101}, {"user", 201}, {"net", 301}}},
        {4300, 4242, "sleep", {4300, 7, 1}, {{"pid", 102}, {"user", 201}, {"net", 301}}},
    };
    s.parent = {{101, 100}, {102, 101}, {201, 200}};
    s.owner = {{100, 200}, {300, 200}, {101, 201}, {102, 201}, {301, 201}};
    s.interfaces[300] = {
        {1, 1, 0, "lo", ""}, {4, 4, 0, "nslab0", "bridge"}, {5, 2, 4, "nsv1", "veth"}};
    s.interfaces[301] = {{1, 1, 0, "lo", ""}, {2, 5, 0, "eth0", "veth"}};
    return s;
}

size_t indent_of(const std::string& dot, const std::string& needle) {
    size_t at = dot.find(needle);
    EXPECT_NE(at, std::string::npos) << "no '" << needle << "' in:\n" << dot;
    size_t line = dot.rfind('\n', at) + 1;
    return at - line;
}

}  // namespace

TEST(NsGraph, ContainersAreHighlightedWithHostSlashInnerPids) {
    std::string dot = to_dot(two_levels(), {});
    EXPECT_NE(dot.find("pid_p4242 [label=\"sh\\n4242/1\", fillcolor=\"#fff2cc\""),
              std::string::npos)
        << dot;
    EXPECT_NE(dot.find("pid_p4300 [label=\"sleep\\n4300/7/1\", fillcolor"), std::string::npos);
    EXPECT_NE(dot.find("pid_p1 [label=\"systemd\\n1\"];"), std::string::npos);
    EXPECT_NE(dot.find("label=\"pid:[100] host\""), std::string::npos);
    EXPECT_NE(dot.find("label=\"pid:[101]\""), std::string::npos);
}

TEST(NsGraph, NestedPidNamespacesAreNestedClusters) {
    std::string dot = to_dot(two_levels(), {});
    size_t host = indent_of(dot, "subgraph \"cluster_pid_100\"");
    size_t inner = indent_of(dot, "subgraph \"cluster_pid_101\"");
    size_t innermost = indent_of(dot, "subgraph \"cluster_pid_102\"");
    EXPECT_LT(host, inner);
    EXPECT_LT(inner, innermost);
    EXPECT_LT(dot.find("cluster_pid_101"), dot.find("cluster_pid_102"));
}

TEST(NsGraph, EveryTypeIsItsOwnCluster) {
    std::string dot = to_dot(two_levels(), {});
    for (const char* type : {"pid", "user", "net"}) {
        EXPECT_NE(dot.find(std::string("subgraph \"cluster_") + type + "\""), std::string::npos)
            << type;
        EXPECT_NE(dot.find(std::string(type) + "_p4242 "), std::string::npos) << type;
    }
    EXPECT_EQ(dot.find("cluster_mnt"), std::string::npos) << "no process has a mnt inode here";
}

TEST(NsGraph, VethPeersLinkNetworkNamespacesAndBridgePortsShow) {
    std::string dot = to_dot(two_levels(), {});
    EXPECT_NE(dot.find("if_300_5 -> if_301_2 [dir=none"), std::string::npos) << dot;
    EXPECT_NE(dot.find("if_300_5 -> if_300_4 [label=\"bridge port\"]"), std::string::npos);
    EXPECT_EQ(dot.find("if_301_1"), std::string::npos) << "lo is left out";
}

TEST(NsGraph, UserNamespaceOwnershipAndParents) {
    std::string dot = to_dot(two_levels(), {});
    EXPECT_NE(dot.find("ns_net_301 -> ns_user_201 [style=dashed"), std::string::npos) << dot;
    EXPECT_NE(dot.find("ns_pid_101 -> ns_user_201"), std::string::npos);
    EXPECT_EQ(dot.find("ns_net_300 -> ns_user_200"), std::string::npos)
        << "ownership by the host's user namespace is the default and is not drawn";
    EXPECT_LT(indent_of(dot, "subgraph \"cluster_user_200\""),
              indent_of(dot, "subgraph \"cluster_user_201\""));
}

TEST(NsGraph, TypeOptionLimitsTheClusters) {
    Options options;
    options.types = parse_types("pid");
    std::string dot = to_dot(two_levels(), options);
    EXPECT_NE(dot.find("cluster_pid"), std::string::npos);
    EXPECT_EQ(dot.find("cluster_net"), std::string::npos);
    EXPECT_EQ(dot.find("cluster_user"), std::string::npos);
    EXPECT_EQ(dot.find("veth"), std::string::npos);
}

TEST(NsGraph, PidFocusShowsOnlyThatContainerAndWhatIsNestedInIt) {
    Options options;
    options.focus = 4242;
    std::string dot = to_dot(two_levels(), options);
    EXPECT_NE(dot.find("pid_p4242 "), std::string::npos);
    EXPECT_NE(dot.find("pid_p4300 "), std::string::npos);
    EXPECT_EQ(dot.find("pid_p1 "), std::string::npos) << dot;
    EXPECT_EQ(dot.find("cluster_pid_100"), std::string::npos);

    options.focus = 4300;
    dot = to_dot(two_levels(), options);
    EXPECT_EQ(dot.find("pid_p4242 "), std::string::npos);
    EXPECT_NE(dot.find("pid_p4300 "), std::string::npos);

    options.focus = 999;
    EXPECT_THROW(to_dot(two_levels(), options), std::invalid_argument);
}

TEST(NsGraph, NamesAreQuotedForDot) {
    Snapshot s = two_levels();
    s.processes[0].name = "a\"b\\c";
    std::string dot = to_dot(s, {});
    EXPECT_NE(dot.find("label=\"a\\\"b\\\\c\\n1\""), std::string::npos) << dot;
}

TEST(NsGraph, ParseTypes) {
    EXPECT_EQ(parse_types("pid,net,pid"), (std::vector<std::string>{"pid", "net"}));
    EXPECT_THROW(parse_types("pid,bogus"), std::invalid_argument);
    EXPECT_THROW(parse_types(""), std::invalid_argument);
    EXPECT_THROW(parse_types("pid_for_children"), std::invalid_argument);
}

TEST(NsGraph, PidLabel) {
    EXPECT_EQ(pid_label({4231, 6, 1}, 4231), "4231/6/1");
    EXPECT_EQ(pid_label({}, 12), "12");
}

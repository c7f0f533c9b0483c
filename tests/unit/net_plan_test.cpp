#include "nslab/net_plan.hpp"

#include <unistd.h>

#include <gtest/gtest.h>
#include <filesystem>

#include "nslab/errors.hpp"
#include "nslab/net_host.hpp"
#include "nslab/parse.hpp"
#include "nslab/sys.hpp"

using namespace nslab;
using namespace nslab::net_plan;

namespace {
Cidr cidr(const char* text) {
    return parse::cidr("--ip", text);
}
std::uint32_t addr(const char* text) {
    return *parse_address(text);
}
}  // namespace

TEST(NetPlanSubnet, DefaultAndCustom) {
    EXPECT_EQ(subnet_from(default_subnet), cidr("10.88.0.0/16"));
    EXPECT_EQ(subnet_from("192.168.77.0/24"), cidr("192.168.77.0/24"));
    EXPECT_EQ(bridge_address(cidr("10.88.0.0/16")), cidr("10.88.0.1/16"));
}

TEST(NetPlanSubnet, RefusesHostBitsAndTinySubnets) {
    try {
        subnet_from("10.88.0.5/16");
        FAIL();
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(),
                     "invalid value '10.88.0.5/16' for NSLAB_SUBNET: the host bits must be zero, "
                     "as in 10.88.0.0/16");
    }
    EXPECT_THROW(subnet_from("10.88.0.0/30"), UsageError);
    EXPECT_THROW(subnet_from("nonsense"), UsageError);
}

TEST(NetPlanRequested, InsideTheSubnetOnly) {
    Cidr subnet = cidr("10.88.0.0/16");
    EXPECT_EQ(refuse_requested(subnet, cidr("10.88.3.4/16")), "");
    EXPECT_NE(refuse_requested(subnet, cidr("10.99.0.2/16")).find("outside the subnet"),
              std::string::npos);
    EXPECT_NE(refuse_requested(subnet, cidr("10.88.0.2/24")).find("/16"), std::string::npos);
    EXPECT_NE(refuse_requested(subnet, cidr("10.88.0.1/16")).find("bridge"), std::string::npos);
    EXPECT_NE(refuse_requested(subnet, cidr("10.88.0.0/16")).find("network"), std::string::npos);
    EXPECT_NE(refuse_requested(subnet, cidr("10.88.255.255/16")).find("broadcast"),
              std::string::npos);
}

TEST(NetPlanFirstFree, SkipsTakenAndTheBridge) {
    Cidr subnet = cidr("10.88.0.0/16");
    EXPECT_EQ(first_free(subnet, {}), addr("10.88.0.2"));
    EXPECT_EQ(first_free(subnet, {addr("10.88.0.2"), addr("10.88.0.3")}), addr("10.88.0.4"));
    Cidr tiny = cidr("10.0.0.0/29");  // .1 bridge, .2-.6 containers, .7 broadcast
    std::set<std::uint32_t> full;
    for (int i = 2; i <= 6; ++i) full.insert(addr("10.0.0.0") + static_cast<std::uint32_t>(i));
    EXPECT_EQ(first_free(tiny, full), std::nullopt);
}

TEST(NetPlanNames, HostVethFitsIfnamsiz) {
    EXPECT_EQ(host_veth_name("1a2b3c4d"), "nsv1a2b3c4d");
    EXPECT_LE(host_veth_name("1a2b3c4d").size(), max_link_name);
    EXPECT_THROW(host_veth_name("0123456789abcdef"), std::invalid_argument);
    EXPECT_TRUE(is_host_veth_name("nsv1a2b3c4d"));
    EXPECT_FALSE(is_host_veth_name("nsv"));
    EXPECT_FALSE(is_host_veth_name("veth0"));
}

TEST(NetPlanLease, RoundTrip) {
    LeaseRecord r{1234, 987654321ULL, "nsv1a2b3c4d"};
    EXPECT_EQ(format_lease(r), "pid=1234 start=987654321 veth=nsv1a2b3c4d\n");
    EXPECT_EQ(parse_lease(format_lease(r)), r);
    EXPECT_EQ(parse_lease(""), std::nullopt);
    EXPECT_EQ(parse_lease("pid=x start=1"), std::nullopt);
    EXPECT_EQ(parse_lease("start=1 veth=a"), std::nullopt);
}

TEST(NetPlanStat, StartTimeAfterTheLastParenthesis) {
    std::string stat =
        "42 (a) b) c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 777 "
        "1000 10 18446744073709551615";
    EXPECT_EQ(start_time_from_stat(stat), 777u);
    EXPECT_EQ(start_time_from_stat("42 (short) S 1"), std::nullopt);
    // A runtime that exited but was not reaped owns nothing any more.
    std::string zombie = stat;
    zombie.replace(zombie.find(" S "), 3, " Z ");
    EXPECT_EQ(start_time_from_stat(zombie), std::nullopt);
}

// The lease store in a scratch directory: no root needed.
class NetLeases : public ::testing::Test {
  protected:
    void SetUp() override {
        dir = (std::filesystem::temp_directory_path() /
               ("nslab-leases-" + std::to_string(::getpid())))
                  .string();
        std::filesystem::remove_all(dir);
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    std::string dir;
    Cidr subnet = cidr("10.88.0.0/16");
};

TEST_F(NetLeases, EachLeaseGetsItsOwnAddressAndGivesItBack) {
    net::Lease a = net::Lease::take(dir, subnet, {}, "nsvaaaaaaaa");
    net::Lease b = net::Lease::take(dir, subnet, {}, "nsvbbbbbbbb");
    EXPECT_EQ(a.address(), cidr("10.88.0.2/16"));
    EXPECT_EQ(b.address(), cidr("10.88.0.3/16"));
    EXPECT_EQ(a.gateway(), cidr("10.88.0.1/16"));
    auto record = parse_lease(sys::read_file(dir + "/10.88.0.2"));
    ASSERT_TRUE(record);
    EXPECT_EQ(record->pid, ::getpid());
    EXPECT_EQ(record->veth, "nsvaaaaaaaa");
    a.release();
    EXPECT_FALSE(sys::exists(dir + "/10.88.0.2"));
    net::Lease c = net::Lease::take(dir, subnet, {}, "nsvcccccccc");
    EXPECT_EQ(c.address(), cidr("10.88.0.2/16")) << "a released address is free again";
    // Only the lease files remain: no half-made records.
    int files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++files;
    EXPECT_EQ(files, 2);
}

TEST_F(NetLeases, WantedAddress) {
    net::Lease a = net::Lease::take(dir, subnet, cidr("10.88.7.7/16"), "nsvaaaaaaaa");
    EXPECT_EQ(a.address(), cidr("10.88.7.7/16"));
    EXPECT_THROW(net::Lease::take(dir, subnet, cidr("10.88.7.7/16"), "nsvbbbbbbbb"),
                 std::runtime_error)
        << "a taken address";
    EXPECT_THROW(net::Lease::take(dir, subnet, cidr("10.99.0.2/16"), "nsvbbbbbbbb"), UsageError)
        << "outside the subnet: a bad command line";
    EXPECT_TRUE(sys::exists(dir + "/10.88.7.7")) << "the failed attempts left the lease alone";
}

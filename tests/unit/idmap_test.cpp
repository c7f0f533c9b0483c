#include "nslab/idmap.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "nslab/errors.hpp"
#include "nslab/kernel.hpp"

using namespace nslab;

namespace {

const idmap::Caller user{1000, 1000, false, {}, {}};
const idmap::Caller root{0, 0, true, IdMapEntry{0, 200000, 65536}, IdMapEntry{0, 300000, 65536}};
const idmap::Limits limits{340, 4096};

Config lab5(std::vector<IdMapEntry> uid_map = {}, std::vector<IdMapEntry> gid_map = {}) {
    Config cfg;
    cfg.lab = 5;
    cfg.userns = true;
    cfg.net = NetMode::none;
    cfg.uid_map = std::move(uid_map);
    cfg.gid_map = std::move(gid_map);
    return cfg;
}

std::string refusal(const Config& cfg, const idmap::Caller& caller,
                    const idmap::Limits& with = limits) {
    try {
        idmap::check(cfg, caller, with);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "(accepted)";
}

}  // namespace

TEST(IdMap, TextIsOneLinePerRange) {
    EXPECT_EQ(idmap::text({{0, 1000, 1}}), "0 1000 1\n");
    EXPECT_EQ(idmap::text({{0, 100000, 1}, {1, 200000, 65535}}), "0 100000 1\n1 200000 65535\n");
}

TEST(IdMap, DefaultMapsTheCallersOwnIds) {
    auto plan = idmap::plan(lab5(), idmap::Caller{1000, 1001, false, {}, {}}, limits);
    EXPECT_EQ(plan.uid_map, "0 1000 1\n");
    EXPECT_EQ(plan.gid_map, "0 1001 1\n");
    // Root's default is never host uid 0: the subordinate ids of user nslab.
    EXPECT_EQ(idmap::plan(lab5(), root, limits).uid_map, "0 200000 65536\n");
    EXPECT_EQ(idmap::plan(lab5(), root, limits).gid_map, "0 300000 65536\n");
    idmap::Caller root_without_range{0, 0, true, {}, {}};
    EXPECT_THROW(idmap::plan(lab5(), root_without_range, limits), std::runtime_error);
}

TEST(IdMap, SetgroupsIsDeniedExactlyWhenUnprivileged) {
    EXPECT_TRUE(idmap::plan(lab5(), user, limits).deny_setgroups)
        << "without CAP_SETGID the kernel takes gid_map only after setgroups is denied";
    EXPECT_FALSE(
        idmap::plan(lab5({{0, 100000, 65536}}, {{0, 100000, 65536}}), root, limits).deny_setgroups)
        << "root may leave setgroups(2) usable inside";
}

TEST(IdMap, RootMayMapRanges) {
    auto plan = idmap::plan(lab5({{0, 100000, 65536}}, {{0, 100000, 65536}}), root, limits);
    EXPECT_EQ(plan.uid_map, "0 100000 65536\n");
    EXPECT_EQ(plan.gid_map, "0 100000 65536\n");
}

TEST(IdMap, UserMayMapOnlyItsOwnIdOnce) {
    EXPECT_EQ(refusal(lab5({{0, 1000, 1}}, {{0, 1000, 1}}), user), "(accepted)");
    EXPECT_NE(refusal(lab5({{0, 100000, 65536}}), user).find("you may map only your own uid"),
              std::string::npos);
    EXPECT_NE(refusal(lab5({{0, 1000, 2}}), user).find("--uid-map 0:1000:2"), std::string::npos);
    EXPECT_NE(refusal(lab5({}, {{0, 0, 1}}), user).find("your own gid, once (0:1000:1)"),
              std::string::npos);
    EXPECT_NE(refusal(lab5({{0, 1000, 1}, {1, 2000, 1}}), user).find("--uid-map"),
              std::string::npos);
}

TEST(IdMap, OverlapsAreRefusedInsideAndOutside) {
    EXPECT_NE(refusal(lab5({{0, 100000, 10}, {5, 200000, 10}}), root).find("overlap"),
              std::string::npos)
        << "inside ranges 0-9 and 5-14 meet";
    EXPECT_NE(refusal(lab5({{0, 100000, 10}, {10, 100009, 1}}), root)
                  .find("--uid-map: 0:100000:10 and 10:100009:1 overlap"),
              std::string::npos)
        << "outside ranges meet";
    EXPECT_EQ(refusal(lab5({{0, 100000, 10}, {10, 100010, 10}}), root), "(accepted)")
        << "adjacent ranges do not overlap";
    EXPECT_NE(refusal(lab5({}, {{0, 5, 1}, {0, 6, 1}}), root).find("--gid-map"), std::string::npos);
}

TEST(IdMap, TheContainerNeedsARoot) {
    EXPECT_NE(refusal(lab5({{1, 100000, 10}}), root).find("nothing maps uid 0 inside"),
              std::string::npos);
}

TEST(IdMap, LineAndSizeLimits) {
    std::vector<IdMapEntry> many;
    for (std::uint32_t i = 0; i < 6; ++i) many.push_back({i, 100000 + i, 1});
    EXPECT_EQ(refusal(lab5(many), root), "(accepted)");
    EXPECT_NE(refusal(lab5(many), root, {5, 4096}).find("at most 5 lines"), std::string::npos);
    std::vector<IdMapEntry> wide;
    for (std::uint32_t i = 0; i < 340; ++i)
        wide.push_back({i * 10000000U, 4000000000U - i * 10000000U, 1});
    EXPECT_NE(refusal(lab5(wide), root).find("less than a page"), std::string::npos)
        << "340 long lines do not fit in one page";
    wide.resize(341);
    EXPECT_NE(refusal(lab5(wide), root).find("at most 340 lines"), std::string::npos);
}

TEST(IdMap, MaxLinesDependsOnTheKernel) {
    EXPECT_EQ(idmap::max_lines("6.1.0-18-amd64"), 340u);
    EXPECT_EQ(idmap::max_lines("4.15.0"), 340u);
    EXPECT_EQ(idmap::max_lines("4.14.300"), 5u);
    EXPECT_EQ(idmap::max_lines("3.10.0-1160.el7.x86_64"), 5u);
}

TEST(Kernel, ReleaseAtLeast) {
    EXPECT_TRUE(nslab::kernel::at_least("5.11.0", 5, 11));
    EXPECT_TRUE(nslab::kernel::at_least("6.1.0-18-amd64", 5, 11));
    EXPECT_FALSE(nslab::kernel::at_least("5.10.209-1", 5, 11));
    EXPECT_FALSE(nslab::kernel::at_least("4.19.0", 5, 11));
    EXPECT_TRUE(nslab::kernel::at_least("6", 5, 11));
    EXPECT_FALSE(nslab::kernel::at_least("not-a-release", 5, 11));
}

TEST(IdMap, RootlessRefusesWhatNeedsTheHost) {
    Config bridge = lab5();
    bridge.net = NetMode::bridge;
    EXPECT_NE(refusal(bridge, user).find("--net bridge needs root"), std::string::npos);
    EXPECT_EQ(refusal(bridge, root), "(accepted)");
    Config no_userns = lab5();
    no_userns.userns = false;
    EXPECT_NE(refusal(no_userns, user).find("add --userns"), std::string::npos);
    Config limits7 = lab5();
    limits7.lab = 7;
    limits7.pids = 10;
    EXPECT_NE(refusal(limits7, user).find("--pids"), std::string::npos);
    limits7.pids.reset();
    limits7.boottime_offset = 60;
    EXPECT_EQ(refusal(limits7, user), "(accepted)")
        << "with --userns the child makes the time namespace, so a user may move clocks";
    Config lab4 = lab5();
    lab4.lab = 4;
    lab4.userns = false;
    EXPECT_NE(refusal(lab4, user).find("lab05_user --userns"), std::string::npos)
        << "lab 04 has no user namespace: a user gets one line, not clone's bare EPERM";
    EXPECT_EQ(refusal(lab4, root), "(accepted)");
}

TEST(IdMap, RefusalsNameTheSwitch) {
    idmap::HostSwitches off{0, std::nullopt, std::nullopt};
    auto why = idmap::explain_refusal(ENOSPC, off, false);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("user.max_user_namespaces is 0"), std::string::npos);
    EXPECT_NE(why->find("sysctl -w user.max_user_namespaces="), std::string::npos);

    idmap::HostSwitches ubuntu{63000, 1, std::nullopt};
    why = idmap::explain_refusal(EACCES, ubuntu, false);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("kernel.apparmor_restrict_unprivileged_userns=0"), std::string::npos);
    EXPECT_FALSE(idmap::explain_refusal(EPERM, ubuntu, true))
        << "AppArmor's rule does not stop root";

    idmap::HostSwitches old_debian{63000, std::nullopt, 0};
    why = idmap::explain_refusal(EPERM, old_debian, false);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("kernel.unprivileged_userns_clone=1"), std::string::npos);

    idmap::HostSwitches open{63000, 0, 1};
    EXPECT_FALSE(idmap::explain_refusal(EPERM, open, false));
    EXPECT_FALSE(idmap::explain_refusal(ENOENT, off, false));
}

TEST(IdMap, SubordinateRangeIsTheUsersFirstNonRootLine) {
    const std::string text = "alice:100000:65536\nnslab:165536:65536\nnslab:300000:10\n";
    EXPECT_EQ(idmap::subordinate_range(text, "nslab", 999), (IdMapEntry{0, 165536, 65536}));
    EXPECT_EQ(idmap::subordinate_range("999:400000:5\n", "nslab", 999), (IdMapEntry{0, 400000, 5}));
    EXPECT_EQ(idmap::subordinate_range(text, "bob", 1), std::nullopt);
    EXPECT_EQ(idmap::subordinate_range("nslab:0:65536\nnslab:x:1\nnslab:5:0\n", "nslab", 1),
              std::nullopt)
        << "a range holding host id 0, or a malformed one, is never used";
}

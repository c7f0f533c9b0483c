// Lab 11's given plumbing: the container's capability set from --cap-add and
// --cap-drop, capability names, and the filter the table makes.
#include <gtest/gtest.h>

#include "nslab/capabilities.hpp"
#include "nslab/cli.hpp"
#include "nslab/confine_plan.hpp"
#include "nslab/errors.hpp"

using namespace nslab;

TEST(Confine, DefaultSetIsDockersFourteen) {
    Config cfg;
    EXPECT_EQ(caps::container_set(cfg).size(), 14u);
    EXPECT_TRUE(caps::contains(caps::container_set(cfg), CAP_NET_BIND_SERVICE));
    EXPECT_FALSE(caps::contains(caps::container_set(cfg), CAP_SYS_ADMIN));
}

TEST(Confine, CapDropAndCapAddApplyDropsFirst) {
    Config cfg;
    cfg.cap_drop = {"ALL"};
    cfg.cap_add = {"chown", "CAP_SYS_ADMIN"};
    EXPECT_EQ(caps::container_set(cfg), (std::vector<caps::Cap>{CAP_CHOWN, CAP_SYS_ADMIN}));
    cfg.cap_drop = {"KILL"};
    cfg.cap_add = {"ALL"};
    EXPECT_EQ(caps::container_set(cfg), caps::all_held());
}

TEST(Confine, UnknownCapabilityNameIsAUsageError) {
    EXPECT_THROW(caps::from_name("--cap-add", "BOGUS"), UsageError);
    EXPECT_THROW(caps::from_name("--cap-add", "7"), UsageError);
    EXPECT_EQ(caps::from_name("--cap-add", "Sys_Admin"), CAP_SYS_ADMIN);
    EXPECT_EQ(caps::name_of(CAP_NET_RAW), "NET_RAW");
    const char* argv[] = {"lab11_confine", "--cap-drop", "NOPE", "--", "/bin/true"};
    EXPECT_THROW(parse_command_line(11, 5, argv), UsageError);
}

TEST(Confine, FilterFollowsTheCapabilitySet) {
    const std::string confined = confine_plan::Filter(caps::docker_default()).text();
    EXPECT_NE(confined.find("open_by_handle_at"), std::string::npos) << confined;
    EXPECT_NE(confined.find("\"mount\""), std::string::npos) << confined;
    std::vector<caps::Cap> admin = caps::docker_default();
    admin.push_back(CAP_SYS_ADMIN);
    const std::string with_admin = confine_plan::Filter(admin).text();
    EXPECT_EQ(with_admin.find("\"mount\""), std::string::npos) << with_admin;
    EXPECT_NE(with_admin.find("keyctl"), std::string::npos) << with_admin;  // always refused
}

TEST(Confine, ProfileInDockersFormat) {
    const auto profile = confine_plan::parse_profile(
        "p.json", R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]})");
    EXPECT_EQ(profile.default_action, SCMP_ACT_ERRNO(1));
    ASSERT_EQ(profile.rules.size(), 2u);
    EXPECT_EQ(profile.rules[0].syscalls.size(), 2u);
    EXPECT_EQ(profile.rules[1].args.size(), 1u);
    EXPECT_NE(confine_plan::Filter(profile).text().find("personality"), std::string::npos);
    for (const char* bad :
         {R"({"defaultAction": "SCMP_ACT_NOPE"})", R"({"defaultAction": "SCMP_ACT_ALLOW", )",
          R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["nope"],
              "action": "SCMP_ACT_ERRNO"}]})",
          R"({"syscalls": []})",
          R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_NOPE"]})"})
        EXPECT_THROW(confine_plan::parse_profile("p.json", bad), UsageError) << bad;
}

TEST(Confine, ProfileArchitecturesOciAndDockersArchMap) {
    const auto oci = confine_plan::parse_profile("p.json", R"({"defaultAction": "SCMP_ACT_ALLOW",
                      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]})");
    EXPECT_EQ(oci.architectures,
              (std::vector<std::uint32_t>{SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32}));
    // Docker's: only this machine's entry counts; an arch libseccomp lacks elsewhere is no error.
    const auto docker =
        confine_plan::parse_profile("p.json", R"({"defaultAction": "SCMP_ACT_ALLOW", "archMap": [
            {"architecture": "SCMP_ARCH_SOMEDAY", "subArchitectures": ["SCMP_ARCH_LATER"]},
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}]})");
    if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
        EXPECT_EQ(docker.architectures, (std::vector<std::uint32_t>{SCMP_ARCH_X86}));
        // A rule covers each ABI the filter takes.
        const std::string text =
            confine_plan::Filter(
                confine_plan::parse_profile("p.json", R"({"defaultAction": "SCMP_ACT_ALLOW",
                                        "architectures": ["SCMP_ARCH_X86"], "syscalls": [
                                        {"names": ["getppid"], "action": "SCMP_ACT_ERRNO"}]})"))
                .text();
        EXPECT_NE(text.find("filter for arch x86_64 "), std::string::npos) << text;
        EXPECT_NE(text.find("filter for arch x86 "), std::string::npos) << text;
    }
}

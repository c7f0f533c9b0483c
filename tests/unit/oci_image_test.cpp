// Lab 10's image config, the pure parts: what runs (Entrypoint, Cmd, the
// command given) and who runs it (the config's User against the image's
// /etc/passwd and /etc/group). No root, no image needed.
#include <gtest/gtest.h>

#include <stdexcept>

#include "nslab/oci_image.hpp"

using namespace nslab::oci;

namespace {
const char* passwd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "app:x:1000:1001:app:/home/app:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const char* group = "root:x:0:\nstaff:x:50:app\n";
}  // namespace

TEST(OciCommand, CmdWhenNoCommandIsGiven) {
    const Settings s{.entrypoint = {}, .cmd = {"/bin/sh", "-c", "echo hi"}};
    EXPECT_EQ(command_of(s, {}), (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
    EXPECT_EQ(command_of(s, {"/bin/true"}), (std::vector<std::string>{"/bin/true"}));
}

TEST(OciCommand, EntrypointTakesTheCommandOrCmdAsArguments) {
    const Settings s{.entrypoint = {"/bin/echo", "a"}, .cmd = {"b"}};
    EXPECT_EQ(command_of(s, {}), (std::vector<std::string>{"/bin/echo", "a", "b"}));
    EXPECT_EQ(command_of(s, {"c"}), (std::vector<std::string>{"/bin/echo", "a", "c"}));
    EXPECT_TRUE(command_of(Settings{}, {}).empty());
}

TEST(OciUser, NumbersNamesAndGroups) {
    using Ids = std::pair<uid_t, gid_t>;
    EXPECT_EQ(resolve_user("1234", passwd, group), (Ids{1234, 0}));  // no passwd line: gid 0
    EXPECT_EQ(resolve_user("1000", passwd, group), (Ids{1000, 1001}));
    EXPECT_EQ(resolve_user("1234:2345", passwd, group), (Ids{1234, 2345}));
    EXPECT_EQ(resolve_user("app", passwd, group), (Ids{1000, 1001}));
    EXPECT_EQ(resolve_user("app:staff", passwd, group), (Ids{1000, 50}));
    EXPECT_EQ(resolve_user("nobody:0", passwd, group), (Ids{65534, 0}));
}

TEST(OciUser, AnUnknownNameIsOneLine) {
    try {
        resolve_user("ghost", passwd, group);
        FAIL() << "a user the image's /etc/passwd lacks must be refused";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(),
                     "the image's User 'ghost': no user 'ghost' in the image's /etc/passwd");
    }
    EXPECT_THROW(resolve_user("app:ghosts", passwd, group), std::runtime_error);
    EXPECT_THROW(resolve_user("app", "", ""), std::runtime_error);
}

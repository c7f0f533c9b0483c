// Lab 12's state directories judged as delete --force and nslab cleanup
// judge them (oci_leftovers.hpp): who made a directory without state.json,
// and whether it may go. No root needed: no cgroup is recorded here.
#include "nslab/oci_leftovers.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "nslab/net_host.hpp"
#include "nslab/sys.hpp"

using namespace nslab;
namespace fs = std::filesystem;

namespace {

class OciLeftovers : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/nslab-oci-leftovers-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        root_ = pattern;
        dir_ = root_ + "/c1";
        sys::mkdir_new(dir_, 0700);
    }
    void TearDown() override { fs::remove_all(root_); }
    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ + "/" + name) << text;
    }
    // The owner record of a process that has exited (and been reaped).
    static std::string dead_record() {
        const pid_t child = sys::fork();
        if (child == 0) {
            ::pause();
            ::_exit(0);
        }
        const std::string record = net::owner_record(child);
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
        return record;
    }
    std::string root_, dir_;
};

}  // namespace

TEST_F(OciLeftovers, ACreateThatRunsKeepsItsDirectory) {
    oci_leftovers::record_creator(dir_, "/nslab/x-1");
    EXPECT_EQ(oci_leftovers::judge(dir_), oci_leftovers::Kind::being_created);
    EXPECT_FALSE(oci_leftovers::remove_unfinished(dir_));
    EXPECT_TRUE(fs::exists(dir_ + "/owner"));
    write("state.json", "{}");
    EXPECT_EQ(oci_leftovers::judge(dir_), oci_leftovers::Kind::container)
        << "state.json written: a container, whose creator may not have exited yet";
}

TEST_F(OciLeftovers, AKilledCreatesDirectoryGoes) {
    write("owner", dead_record());
    write("config.json", "{}");
    write("state.json.new", "{\"half");
    EXPECT_EQ(oci_leftovers::judge(dir_), oci_leftovers::Kind::unfinished);
    EXPECT_TRUE(oci_leftovers::remove_unfinished(dir_));
    EXPECT_FALSE(fs::exists(dir_));
    EXPECT_EQ(oci_leftovers::judge(dir_), oci_leftovers::Kind::missing);
}

TEST_F(OciLeftovers, AStoppedContainerIsNotUnfinished) {
    write("owner", dead_record());
    write("state.json", "{}");
    EXPECT_EQ(oci_leftovers::judge(dir_), oci_leftovers::Kind::container);
}

TEST_F(OciLeftovers, ARecordNotYetRenamedIsTheCreators) {
    write("owner.new", net::owner_record(::getpid()));
    EXPECT_EQ(oci_leftovers::judge(dir_), oci_leftovers::Kind::being_created);
    fs::remove(dir_ + "/owner.new");
    write("owner.new", dead_record());
    EXPECT_EQ(oci_leftovers::judge(dir_), oci_leftovers::Kind::unfinished);
    EXPECT_TRUE(oci_leftovers::remove_unfinished(dir_));
    EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(OciLeftovers, NoWholeRecordOnlyAnEmptyDirectoryGoes) {
    // Killed between its mkdir and its record (or there now): the part
    // written goes, and the directory if nothing else is in it.
    write("owner.new", "pid=12");
    EXPECT_EQ(oci_leftovers::judge(dir_), oci_leftovers::Kind::unfinished);
    EXPECT_TRUE(oci_leftovers::remove_unfinished(dir_));
    EXPECT_FALSE(fs::exists(dir_));
    sys::mkdir_new(dir_, 0700);
    write("config.json", "{}");  // not by a create of ours: nobody's to remove
    EXPECT_FALSE(oci_leftovers::remove_unfinished(dir_));
    EXPECT_TRUE(fs::exists(dir_ + "/config.json"));
}

TEST_F(OciLeftovers, CleanupKeepsTheLiveAndRemovesTheUnfinished) {
    oci_leftovers::record_creator(dir_, "/nslab/x-1");
    const std::string dead = root_ + "/c2";
    sys::mkdir_new(dead, 0700);
    std::ofstream(dead + "/owner") << dead_record();
    std::vector<std::string> errors;
    const oci_leftovers::Swept swept = oci_leftovers::cleanup_stale(root_, &errors);
    EXPECT_TRUE(errors.empty()) << errors.front();
    ASSERT_EQ(swept.removed.size(), 1u);
    EXPECT_NE(swept.removed[0].find(dead), std::string::npos) << swept.removed[0];
    ASSERT_EQ(swept.kept.size(), 1u);
    EXPECT_NE(swept.kept[0].find(dir_), std::string::npos) << swept.kept[0];
    EXPECT_TRUE(fs::exists(dir_));
    EXPECT_FALSE(fs::exists(dead));
}

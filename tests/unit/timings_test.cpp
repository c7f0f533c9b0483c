#include "nslab/timings.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

using namespace nslab;

namespace {

// The step names of encoded() text, in order.
std::vector<std::string> names_of(const std::string& encoded) {
    std::vector<std::string> names;
    std::istringstream in(encoded);
    for (std::string line; std::getline(in, line);)
        names.push_back(line.substr(line.find(' ') + 1));
    return names;
}

}  // namespace

TEST(Timings, OffLayersLeaveNoLine) {
    Timings t(true);
    t.mark("uts: hostname", false);
    t.mark("mount: pivot_root and mounts");
    EXPECT_EQ(names_of(t.encoded()), std::vector<std::string>{"mount: pivot_root and mounts"});
}

TEST(Timings, DisabledRecordsNothing) {
    Timings t(false);
    t.mark("clone");
    t.total("until exec");
    EXPECT_EQ(t.encoded(), "");
}

TEST(Timings, ChildStepsNestInTheParentsWindow) {
    Timings child(true);
    child.mark("net: lo");
    child.mark("mount: pivot_root");
    Timings parent(true);
    parent.mark("clone");
    parent.mark_nested("child", child.encoded(), "child: wake-up");
    parent.total("until exec");
    EXPECT_EQ(names_of(parent.encoded()),
              (std::vector<std::string>{"clone", "  child: net: lo", "  child: mount: pivot_root",
                                        "child: wake-up", "= until exec"}));
}

TEST(Timings, AReportWithoutStepsIsAllRest) {
    Timings parent(true);
    parent.mark_nested("child", "", "child set-up");
    parent.mark_nested("child", "not a step line\n", "again");
    EXPECT_EQ(names_of(parent.encoded()), (std::vector<std::string>{"child set-up", "again"}));
}

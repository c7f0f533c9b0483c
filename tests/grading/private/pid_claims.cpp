// An instructor-only claim, as `--extra-tests DIR` takes them: the
// submissions test grades with this directory to check that private claims
// are compiled into the graders, counted, and marked hidden.
#include "harness.hpp"

namespace {

using namespace grader;

TEST(Pid, PrivateTrueExitsZero) {
    claim(1, "lab01 step 1 (private)");
    Result r = run(lab(), {}, {"/bin/true"});
    EXPECT_EQ(r.status, 0) << "expected /bin/true to exit 0 in the container; stderr: " << r.err;
}

}  // namespace

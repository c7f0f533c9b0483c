// main() of every grader: the claims need root, so say so at once.
#include <unistd.h>

#include <cstdio>

#include <gtest/gtest.h>

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (::geteuid() != 0)
        std::fprintf(stderr, "grader: not root: most claims need root (run with sudo)\n");
    return RUN_ALL_TESTS();
}

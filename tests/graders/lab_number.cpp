// This grader program's lab: tests/CMakeLists.txt compiles this file once
// per grader with NSLAB_GRADER_LAB, and links the claims files, compiled
// once each, beside it.
#include "harness.hpp"

int grader::lab() {
    return NSLAB_GRADER_LAB;
}

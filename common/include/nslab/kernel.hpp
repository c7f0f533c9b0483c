// The running kernel's release, and which features a release has: a refusal
// that names the missing feature reads better than the bare errno.
#pragma once

#include <string>
#include <string_view>

namespace nslab::kernel {

std::string release();  // uname(2)'s release, such as "6.1.0-18-amd64"

// Whether `release` is Linux major.minor or later (pure: unit-tested).
bool at_least(std::string_view release, int major, int minor);

}  // namespace nslab::kernel

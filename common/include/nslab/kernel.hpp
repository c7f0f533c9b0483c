// The running kernel's release, and which features a release has: a refusal
// that names the missing feature reads better than the bare errno.
#pragma once

#include <string>
#include <string_view>

namespace nslab::kernel {

std::string release();  // uname(2)'s release, such as "6.1.0-18-amd64"

// Whether `release` is Linux major.minor or later (pure: unit-tested).
bool at_least(std::string_view release, int major, int minor);

// Whether this process is in the host's (initial) user namespace, whose
// uid_map maps every id onto itself: "0 0 4294967295" (user_namespaces(7)).
// Only there do capabilities count for the kernel's host-wide checks.
bool in_initial_user_namespace();
bool is_initial_uid_map(std::string_view uid_map);  // pure: unit-tested

}  // namespace nslab::kernel

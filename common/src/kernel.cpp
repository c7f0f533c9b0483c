#include "nslab/kernel.hpp"

#include <sys/utsname.h>

#include <charconv>

#include "nslab/sys.hpp"

namespace nslab::kernel {

std::string release() {
    utsname names{};
    sys::check(::uname(&names), "uname");
    return names.release;
}

bool at_least(std::string_view release, int major, int minor) {
    int got_major = 0, got_minor = 0;
    const char* end = release.data() + release.size();
    auto [dot, ec] = std::from_chars(release.data(), end, got_major);
    if (ec != std::errc{}) return false;
    if (dot < end && *dot == '.') std::from_chars(dot + 1, end, got_minor);
    return got_major > major || (got_major == major && got_minor >= minor);
}

}  // namespace nslab::kernel

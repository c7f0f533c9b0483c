#include "nslab/kernel.hpp"

#include <sys/utsname.h>

#include <charconv>
#include <sstream>

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

bool is_initial_uid_map(std::string_view uid_map) {
    std::istringstream fields{std::string(uid_map)};
    std::string inside, outside, count, more;
    fields >> inside >> outside >> count;
    return inside == "0" && outside == "0" && count == "4294967295" && !(fields >> more);
}

bool in_initial_user_namespace() {
    return is_initial_uid_map(sys::read_file("/proc/self/uid_map"));
}

}  // namespace nslab::kernel

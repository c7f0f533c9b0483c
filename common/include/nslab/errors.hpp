// The errors that mean something to a user.
#pragma once

#include <stdexcept>
#include <string>

namespace nslab {

// A bad command line: printed as `labNN_x: <what>` plus a hint, exit 2.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A skeleton step the student has not written yet. The message names the
// lab, the handout step and the man page to read.
class NotImplemented : public std::runtime_error {
  public:
    NotImplemented(const std::string& lab, int step, const std::string& man_page)
        : std::runtime_error("not implemented yet: " + lab + ", step " + std::to_string(step) +
                             " of labs/" + lab + "/README.md (see " + man_page + ")") {}
};

// Exit statuses, as container runtimes use them (docker run, runc).
namespace exit_status {
inline constexpr int usage = 2;
inline constexpr int runtime_failed = 125;
inline constexpr int not_executable = 126;
inline constexpr int not_found = 127;
}  // namespace exit_status

}  // namespace nslab

// The one command line all lab executables share (Boost.Program_options).
#pragma once

#include <optional>

#include "nslab/config.hpp"

namespace nslab {

struct ParsedCommandLine {
    Config config;
    std::optional<int> exit_now;  // --help / --version were printed: exit with this
};

// GNU conventions: --help and --version print to stdout and exit 0; no
// abbreviated options; everything after `--` is the command; an option of a
// later lab is refused with the lab it belongs to. Throws UsageError.
ParsedCommandLine parse_command_line(int lab, int argc, const char* const* argv);

// A short random container id (8 hex digits): hostname, cgroup, veth names.
std::string random_id();

// "lab01_pid" for 1.
std::string lab_program_name(int lab);

}  // namespace nslab

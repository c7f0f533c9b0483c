// Lab 00's program: print what /proc says about one or two processes.
#pragma once

#include <string>

#include "nslab/config.hpp"
#include "nslab/layers/process.hpp"

namespace nslab {

// The documented output format (labs/lab00_process/README.md): one
// "key: value" line each, blocks separated by a blank line, then for two
// processes a "shared:" and a "different:" line.
std::string format_identity(const process::Identity& identity);

int show_identity(const Config& cfg);

}  // namespace nslab

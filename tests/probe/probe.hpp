// The probe's subcommands register themselves, so each lab's file adds its
// own (cmd_<layer>.cpp) without touching the others.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace probe {

using Args = std::vector<std::string>;
using Command = std::function<int(const Args&)>;

struct Register {
    Register(const std::string& name, Command command, const std::string& help);
};

// Helpers shared by subcommands.
std::string slurp(const std::string& path);
void hold();  // print "ready PID", stay until stdin closes

}  // namespace probe

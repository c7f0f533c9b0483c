// nslab-faults [--bin DIR] leaks [--seed N] [--rounds N] [--no-cleanup]
//              [--bin DIR] bad-inputs TABLE [--markdown]
//              [--bin DIR] parallel [--containers N]
//              [--bin DIR] oci [--seed N] [--rounds N]
// As root (the markdown table excepted). See faults.hpp and docs/reliability.md.
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include "faults.hpp"

namespace {

int usage() {
    std::fprintf(stderr,
                 "usage: nslab-faults [--bin DIR] leaks [--seed N] [--rounds N] [--no-cleanup]\n"
                 "       nslab-faults [--bin DIR] bad-inputs TABLE [--markdown]\n"
                 "       nslab-faults [--bin DIR] parallel [--containers N]\n"
                 "       nslab-faults [--bin DIR] oci [--seed N] [--rounds N]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    faults::bin_dir = NSLAB_BIN_DIR;
    if (args.size() >= 2 && args[0] == "--bin") {
        faults::bin_dir = args[1];
        args.erase(args.begin(), args.begin() + 2);
    }
    if (args.empty()) return usage();
    const std::string command = args[0];
    auto option = [&](const std::string& name, const std::string& fallback) {
        for (size_t i = 1; i + 1 < args.size(); ++i)
            if (args[i] == name) return args[i + 1];
        return fallback;
    };
    auto flag = [&](const std::string& name) {
        for (size_t i = 1; i < args.size(); ++i)
            if (args[i] == name) return true;
        return false;
    };
    try {
        if (command == "bad-inputs" && args.size() >= 2 && flag("--markdown"))
            return faults::bad_inputs_markdown(args[1]);
        if (::geteuid() != 0) {
            std::fprintf(stderr, "nslab-faults: needs root (it runs the labs as root)\n");
            return 2;
        }
        const bool bad_inputs = command == "bad-inputs" && args.size() >= 2;
        const std::string table = bad_inputs ? faults::read_table(args[1]) : "";
        faults::become_scratch_host();
        if (command == "leaks")
            return faults::leaks(
                std::stoull(option("--seed", std::to_string(std::random_device{}()))),
                std::stoi(option("--rounds", "5")), !flag("--no-cleanup"));
        if (bad_inputs) return faults::bad_inputs(args[1], table);
        if (command == "oci")
            return faults::oci_faults(
                std::stoull(option("--seed", std::to_string(std::random_device{}()))),
                std::stoi(option("--rounds", "5")));
        if (command == "parallel") return faults::parallel(std::stoi(option("--containers", "20")));
        return usage();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nslab-faults: %s\n", e.what());
        return 1;
    }
}

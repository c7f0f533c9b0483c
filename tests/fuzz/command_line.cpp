// libFuzzer: parse_command_line, the one command line of every lab. The
// first byte picks the lab (a row of the lab table); the rest, split at NUL
// bytes, is argv.
#include <cstdio>
#include <iterator>
#include <vector>

#include "fuzz.hpp"
#include "nslab/cli.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (!std::freopen("/dev/null", "w", stdout)) std::abort();  // --help, --version
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto& row = nslab::lab_table[data[0] % std::size(nslab::lab_table)];
    const int lab = row.number;
    std::vector<std::string> args{nslab::lab_program_name(lab)};
    std::string current;
    for (std::size_t i = 1; i < size && args.size() < 64; ++i) {
        if (data[i] == 0) {
            args.push_back(current);
            current.clear();
        } else {
            current.push_back(static_cast<char>(data[i]));
        }
    }
    if (!current.empty()) args.push_back(current);
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    try {
        nslab::ParsedCommandLine parsed =
            nslab::parse_command_line(lab, static_cast<int>(args.size()), argv.data());
        const nslab::Config& cfg = parsed.config;
        // Accepted: a lab that runs a command has one to run.
        if (!parsed.exit_now && row.kind != nslab::LabKind::inspect && cfg.command.empty())
            std::abort();
        if (cfg.lab != lab) std::abort();
    } catch (const nslab::UsageError& e) {
        if (std::string(e.what()).empty()) std::abort();
    }
    return 0;
}

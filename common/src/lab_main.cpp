// main() of every lab executable; NSLAB_LAB says which lab this one is.
#include <cstdio>
#include <exception>

#include "nslab/cli.hpp"
#include "nslab/container.hpp"
#include "nslab/errors.hpp"
#include "nslab/oci_main.hpp"
#include "nslab/sealed_self.hpp"
#include "nslab/show_identity.hpp"

int main(int argc, char** argv) {
    using namespace nslab;
    const std::string program = lab_program_name(NSLAB_LAB);
    try {
        // Before anything else: every lab that starts or joins a container
        // runs from a sealed copy of itself (CVE-2019-5736, sealed_self.hpp).
        if (NSLAB_LAB >= 1) run_from_sealed_copy(program.c_str(), argv);
        if (find_lab(NSLAB_LAB)->kind == LabKind::runtime) return oci_main(argc, argv);
        ParsedCommandLine parsed = parse_command_line(NSLAB_LAB, argc, argv);
        if (parsed.exit_now) return *parsed.exit_now;
        const Config& cfg = parsed.config;
        switch (find_lab(cfg.lab)->kind) {
            case LabKind::inspect:
                return show_identity(cfg);
            case LabKind::join:
                return join_container(cfg);
            case LabKind::build:
            case LabKind::runtime:
                break;
        }
        return run_container(cfg);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "%s: %s\nTry '%s --help'.\n", program.c_str(), e.what(),
                     program.c_str());
        return exit_status::usage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", program.c_str(), e.what());
        return exit_status::runtime_failed;
    }
}

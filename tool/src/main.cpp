// nslab-tool: what ./nslab runs once the chosen tree is built.
//
//   nslab-tool grade --bin DIR | --from REPORT.json | --submissions DIR [--shard I/N]
//                    | --merge RESULTS.json...  [--lab N]...
//                    [--format text|json|junit|gradescope|classroom] [--output FILE] ...
//   nslab-tool check-handouts [--source DIR] [--bin DIR]
//   nslab-tool image build [--bin DIR] [-f FILE] [-t NAME] DIR | ls | rm NAME | save NAME -o FILE
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "claims_source.hpp"
#include "cleanup.hpp"
#include "doctor.hpp"
#include "grade_command.hpp"
#include "graph.hpp"
#include "image.hpp"
#include "nslab/errors.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (!args.empty() && args.front() == "grade")
            return tool::grade_command({args.begin() + 1, args.end()});
        if (!args.empty() && args.front() == "check-handouts")
            return tool::check_handouts_command({args.begin() + 1, args.end()});
        if (!args.empty() && args.front() == "cleanup")
            return tool::cleanup({args.begin() + 1, args.end()});
        if (!args.empty() && args.front() == "doctor")
            return tool::doctor({args.begin() + 1, args.end()});
        if (!args.empty() && args.front() == "image")
            return tool::image_command({args.begin() + 1, args.end()});
        if (!args.empty() && args.front() == "graph")
            return tool::graph({args.begin() + 1, args.end()});
        std::cerr
            << "usage: nslab-tool grade --bin DIR [--lab N]... [--format F] | check-handouts\n";
        return 2;
    } catch (const nslab::UsageError& e) {
        std::cerr << "nslab: " << e.what() << "\n";
        return nslab::exit_status::usage;
    } catch (const po::error& e) {
        std::cerr << "nslab: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "nslab: " << e.what() << "\n";
        return 1;
    }
}

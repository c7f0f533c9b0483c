// Prints the lab table (nslab/labs.hpp) as CMake, so the build reads the one
// table instead of a copy: CMake compiles and runs this at configure time
// (common/table/labs.cmake) and writes labs.cmake and labs.tsv from it.
#include <cstdio>
#include <string>

#include "nslab/labs.hpp"

namespace {

const char* kind_name(nslab::LabKind kind) {
    switch (kind) {
        case nslab::LabKind::inspect:
            return "inspect";
        case nslab::LabKind::build:
            return "build";
        case nslab::LabKind::join:
            return "join";
        case nslab::LabKind::runtime:
            return "runtime";
    }
    return "?";
}

std::string number_of(const nslab::Lab& lab) {
    std::string program = nslab::lab_program_name(lab);
    return program.substr(3, program.find('_') - 3);
}

}  // namespace

int main() {
    using namespace nslab;
    std::printf("# Generated from common/include/nslab/labs.hpp: do not edit.\n");
    std::string numbers;
    for (const Lab& lab : lab_table) numbers += " " + number_of(lab);
    std::printf("set(NSLAB_LABS%s)\n", numbers.c_str());
    for (const Lab& lab : lab_table) {
        const std::string n = number_of(lab);
        std::printf("set(NSLAB_LAB_%s_NAME %.*s)\n", n.c_str(), static_cast<int>(lab.name.size()),
                    lab.name.data());
        std::printf("set(NSLAB_LAB_%s_KIND %s)\n", n.c_str(), kind_name(lab.kind));
        // The labs whose layers (so whose claims) this lab's executable has.
        std::string covers;
        for (const Lab& other : lab_table)
            if (&other != &lab && takes_options_of(lab, other)) covers += " " + number_of(other);
        std::printf("set(NSLAB_LAB_%s_COVERS%s)\n", n.c_str(), covers.c_str());
    }
    return 0;
}

#include "cleanup.hpp"

#include <glob.h>
#include <unistd.h>

#include <cerrno>

#include <iostream>

#include "nslab/cgroupfs.hpp"
#include "nslab/net_host.hpp"

namespace tool {

// A runtime undoes its own set-up when it ends, even on SIGINT or SIGTERM;
// only SIGKILL (or a power cut) leaves things behind: the container itself
// dies with the runtime (PR_SET_PDEATHSIG), and with it its namespaces, but
// the cgroup directory, the address lease and, until the kernel tears the
// network namespace down, the host end of the veth stay. Each layer knows
// what it makes; this only asks each to remove what has no live owner.
namespace {

// The parents the runtime (nslab) and batch grading (nslab-grading) make at
// the top of each hierarchy, once nothing is left in them. rmdir(2) of a
// cgroup fails while it has children, so a busy parent simply stays.
std::vector<std::string> remove_empty_parents() {
    std::vector<std::string> removed;
    for (const char* pattern : {"/sys/fs/cgroup/nslab", "/sys/fs/cgroup/*/nslab",
                                "/sys/fs/cgroup/nslab-grading", "/sys/fs/cgroup/*/nslab-grading"}) {
        glob_t found{};
        if (::glob(pattern, GLOB_ONLYDIR, nullptr, &found) == 0)
            for (size_t i = 0; i < found.gl_pathc; ++i)
                if (::rmdir(found.gl_pathv[i]) == 0)
                    removed.push_back(std::string("removed empty cgroup parent ") +
                                      found.gl_pathv[i]);
        ::globfree(&found);
    }
    return removed;
}

}  // namespace

int cleanup(const std::vector<std::string>& args) {
    if (!args.empty()) {
        std::cerr << "nslab cleanup: takes no arguments\n";
        return 2;
    }
    if (::geteuid() != 0) {
        std::cerr << "nslab cleanup: needs root (sudo ./nslab cleanup)\n";
        return 2;
    }
    std::vector<std::string> removed, errors;
    for (auto& line : nslab::net::cleanup_stale()) removed.push_back(std::move(line));
    for (auto& path : nslab::cgroup::cleanup_stale(&errors))
        removed.push_back("removed cgroup " + path);
    for (auto& line : remove_empty_parents()) removed.push_back(std::move(line));
    for (const auto& line : removed) std::cout << line << "\n";
    for (const auto& line : errors) std::cerr << "nslab cleanup: " << line << "\n";
    if (removed.empty() && errors.empty()) std::cout << "nothing to clean up\n";
    return errors.empty() ? 0 : 1;
}

}  // namespace tool

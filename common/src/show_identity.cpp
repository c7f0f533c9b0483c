#include "nslab/show_identity.hpp"

#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "nslab/procfs.hpp"

namespace nslab {

std::string format_identity(const process::Identity& identity) {
    std::string text = "pid: " + std::to_string(identity.pid) + "\n";
    text += "name: " + identity.name + "\n";
    text += "ppid: " + std::to_string(identity.ppid) + "\n";
    text += "nspid:";
    for (pid_t pid : identity.nspid) text += " " + std::to_string(pid);
    text += "\n";
    for (std::string_view type : procfs::namespace_types) {
        auto it = identity.ns.find(std::string(type));
        text += "ns." + std::string(type) + ": " +
                (it == identity.ns.end() ? std::string("-") : std::to_string(it->second)) + "\n";
    }
    return text;
}

int show_identity(const Config& cfg) {
    std::vector<pid_t> pids = cfg.show_pids;
    if (pids.empty()) pids.push_back(::getpid());
    std::vector<process::Identity> identities;
    for (pid_t pid : pids) identities.push_back(process::identify(pid));
    for (size_t i = 0; i < identities.size(); ++i)
        std::cout << (i ? "\n" : "") << format_identity(identities[i]);
    if (identities.size() == 2) {
        auto shared = process::shared_namespaces(identities[0], identities[1]);
        std::string shared_line = "shared:", different_line = "different:";
        for (std::string_view type : procfs::namespace_types) {
            std::string name(type);
            bool both = identities[0].ns.count(name) && identities[1].ns.count(name);
            if (!both) continue;
            bool same = std::find(shared.begin(), shared.end(), name) != shared.end();
            (same ? shared_line : different_line) += " " + name;
        }
        std::cout << "\n" << shared_line << "\n" << different_line << "\n";
    }
    return 0;
}

}  // namespace nslab

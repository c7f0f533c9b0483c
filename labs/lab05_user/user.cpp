// Lab 05: placeholder until this lab is written (see the issue tracker).
#include "nslab/layers/user.hpp"

#include "nslab/errors.hpp"

namespace nslab::user {

unsigned long clone_flags(const Config& cfg) {
    if (!cfg.has(Layer::user) || !cfg.userns) return 0;
    throw NotImplemented("lab05_user", 1, "user_namespaces(7)");
}

void in_parent(const Config& cfg, pid_t child) {
    (void)child;
    if (!cfg.has(Layer::user) || !cfg.userns) return;
    throw NotImplemented("lab05_user", 2, "user_namespaces(7)");
}

void in_child(const Config& cfg) {
    if (!cfg.has(Layer::user) || !cfg.userns) return;
    throw NotImplemented("lab05_user", 3, "setresuid(2)");
}

}  // namespace nslab::user

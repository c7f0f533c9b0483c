// Lab 02: placeholder until this lab is written (see the issue tracker).
#include "nslab/layers/mount.hpp"

#include "nslab/errors.hpp"

namespace nslab::mount {

unsigned long clone_flags(const Config& cfg) {
    if (!cfg.has(Layer::mount)) return 0;
    throw NotImplemented("lab02_mount", 1, "mount_namespaces(7)");
}

void in_child(const Config& cfg) {
    if (!cfg.has(Layer::mount)) return;
    throw NotImplemented("lab02_mount", 2, "pivot_root(2)");
}

}  // namespace nslab::mount

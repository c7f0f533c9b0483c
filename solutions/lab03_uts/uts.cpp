// Lab 03: placeholder until this lab is written (see the issue tracker).
#include "nslab/layers/uts.hpp"

#include "nslab/errors.hpp"

namespace nslab::uts {

unsigned long clone_flags(const Config& cfg) {
    if (!cfg.has(Layer::uts)) return 0;
    throw NotImplemented("lab03_uts", 1, "uts_namespaces(7)");
}

void in_child(const Config& cfg) {
    if (!cfg.has(Layer::uts)) return;
    throw NotImplemented("lab03_uts", 2, "sethostname(2)");
}

}  // namespace nslab::uts

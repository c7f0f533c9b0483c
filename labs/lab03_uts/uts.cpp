// Lab 03: the UTS namespace (hostname and NIS domain name).
//
// Read labs/lab03_uts/README.md first. Each TODO below is a numbered step
// of the handout; replace the `throw` with your code.
#include "nslab/layers/uts.hpp"

#include <sched.h>

#include "nslab/errors.hpp"
#include "nslab/sys.hpp"

namespace nslab::uts {

unsigned long clone_flags() {
    // TODO step 1: the child gets its own copy of our hostname and domain
    // name (man 7 uts_namespaces). What does a new one hold at first?
    throw NotImplemented("lab03_uts", 1, "man 7 uts_namespaces");
}

void in_child(const Config& cfg) {
    // TODO step 2: the container's hostname is --hostname, or its id when
    // none was given; its domain name changes only when --domainname was
    // given (man 2 sethostname, man 2 setdomainname). Why is the host's name safe?
    (void)cfg;
    throw NotImplemented("lab03_uts", 2, "man 2 sethostname, man 2 setdomainname");
}

}  // namespace nslab::uts

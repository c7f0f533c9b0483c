// Lab 03: the UTS namespace (hostname and NIS domain name).
//
// The two names uname(2) reports besides the kernel's own live in a UTS
// namespace (uts_namespaces(7)); the name comes from the UNIX Time-sharing
// System's struct utsname. CLONE_NEWUTS gives the child a copy of ours, so
// sethostname(2) in the child renames the container and leaves the host's
// name as it was. Without the new namespace the same call renames the host.
#include "nslab/layers/uts.hpp"

#include <sched.h>

#include "nslab/sys.hpp"

namespace nslab::uts {

unsigned long clone_flags() {
    return CLONE_NEWUTS;
}

void in_child(const Config& cfg) {
    // The names were checked in the parent (--hostname, --domainname);
    // like docker run, a container without --hostname is named by its id.
    sys::sethostname(cfg.hostname.empty() ? cfg.id : cfg.hostname);
    // The copy keeps the host's domain name, as docker does, unless asked.
    if (!cfg.domainname.empty()) sys::setdomainname(cfg.domainname);
}

}  // namespace nslab::uts

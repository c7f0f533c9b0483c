// Lab 03: the UTS namespace (hostname and NIS domain name).
#pragma once

#include "nslab/config.hpp"

namespace nslab::uts {

unsigned long clone_flags();       // CLONE_NEWUTS (called only when the lab has the layer)
void in_child(const Config& cfg);  // sethostname, setdomainname

}  // namespace nslab::uts

// Lab 03: the UTS namespace (hostname and NIS domain name).
#pragma once

#include "nslab/config.hpp"

namespace nslab::uts {

unsigned long clone_flags(const Config& cfg);  // CLONE_NEWUTS when the layer is on
void in_child(const Config& cfg);              // sethostname, setdomainname

}  // namespace nslab::uts

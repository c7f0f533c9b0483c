// Lab 05: the user namespace and its id maps.
#pragma once

#include <sys/types.h>

#include "nslab/config.hpp"

namespace nslab::user {

unsigned long clone_flags();                     // CLONE_NEWUSER with --userns
void in_parent(const Config& cfg, pid_t child);  // uid_map, setgroups, gid_map
void in_child();                                 // become root of the namespace

}  // namespace nslab::user

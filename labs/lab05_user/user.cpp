// Lab 05: the user namespace and its id maps.
//
// Read labs/lab05_user/README.md first. Each TODO below is a numbered step of
// the handout; replace the `throw` with your code. The checks a caller may
// fail (overlapping maps, a user mapping more than its own id, --net bridge
// without root) are done for you before clone, in common/src/idmap.cpp.
#include "nslab/layers/user.hpp"

#include <sched.h>

#include <string>

#include "nslab/errors.hpp"
#include "nslab/idmap.hpp"
#include "nslab/sys.hpp"

namespace nslab::user {

unsigned long clone_flags() {
    // TODO step 1: the child is in a new user namespace, which owns the other
    // namespaces of the same clone (man 7 user_namespaces, man 2 clone). Why does
    // that let a user without privilege make them at all?
    throw NotImplemented("lab05_user", 1, "man 7 user_namespaces, man 2 clone");
}

void in_parent(const Config& cfg, pid_t child) {
    (void)cfg;
    (void)child;
    // TODO step 2: uid 0 inside is the uid idmap::plan maps it to outside
    // (man 7 user_namespaces, "Defining user and group ID mappings"). Why must
    // the parent write it, in one write?
    //
    // TODO step 3: as a user, setgroups is off for good in the child's
    // namespace before its gid map is written (man 7 user_namespaces, "The
    // /proc/PID/setgroups file"). What could its root do otherwise?
    //
    // TODO step 4: gid 0 inside is the gid the plan maps it to outside
    // (man 7 user_namespaces). What would the child see if it went on first?
    throw NotImplemented("lab05_user", 2,
                         "man 7 user_namespaces: \"Defining user and group ID mappings\"");
}

void in_child() {
    // TODO step 5: the command is uid 0 and gid 0 of the namespace, with no
    // supplementary group of the host's where it may drop them
    // (man 7 capabilities, man 2 setresuid, man 2 setgroups). Why before execve, and
    // why the uid last?
    throw NotImplemented("lab05_user", 5, "man 2 setresuid, man 2 setgroups, man 7 capabilities");
}

}  // namespace nslab::user

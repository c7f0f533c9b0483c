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

unsigned long clone_flags(const Config& cfg) {
    if (!cfg.has(Layer::user) || !cfg.userns) return 0;
    // TODO step 1: return CLONE_NEWUSER. The orchestrator ORs it into the
    // same clone(2) as the other CLONE_NEW* flags; the kernel makes the user
    // namespace first and the others belong to it.
    throw NotImplemented("lab05_user", 1, "user_namespaces(7), clone(2)");
}

void in_parent(const Config& cfg, pid_t child) {
    (void)child;
    if (!cfg.has(Layer::user) || !cfg.userns) return;
    // TODO steps 2-4: the child waits on the sync pipe while you write its
    // maps. idmap::plan(cfg) gives the text of each map ("0 1000 1\n") and
    // whether setgroups must be denied. With sys::write_file (one write(2)),
    // in THIS order:
    //  2. plan.uid_map to /proc/CHILD/uid_map;
    //  3. if plan.deny_setgroups: "deny" to /proc/CHILD/setgroups;
    //  4. plan.gid_map to /proc/CHILD/gid_map.
    throw NotImplemented("lab05_user", 2,
                         "user_namespaces(7): \"Defining user and group ID mappings\"");
}

void in_child(const Config& cfg) {
    if (!cfg.has(Layer::user) || !cfg.userns) return;
    // TODO step 5: become uid 0 and gid 0 of the namespace, in this order:
    //  - unless /proc/self/setgroups reads "deny\n", drop the supplementary
    //    groups with sys::setgroups({});
    //  - sys::setresgid(0, 0, 0);
    //  - sys::setresuid(0, 0, 0).
    throw NotImplemented("lab05_user", 5, "setresuid(2), setgroups(2), capabilities(7)");
}

}  // namespace nslab::user

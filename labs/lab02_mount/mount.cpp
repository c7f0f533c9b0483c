// Lab 02: the mount namespace and pivot_root.
//
// Read labs/lab02_mount/README.md first. Each TODO below is a numbered step
// of the handout; replace the `throw` with your code.
#include "nslab/layers/mount.hpp"

#include <sched.h>
#include <sys/mount.h>

#include "nslab/errors.hpp"
#include "nslab/mount_plan.hpp"
#include "nslab/sys.hpp"

namespace nslab::mount {

namespace {

// Applies one step of the plan on its target, which the given
// mount_plan::open_target() opened inside the rootfs (a symlink there is
// refused, not followed) and made when the plan says so.
[[maybe_unused]] void apply(const mount_plan::Step& step, const mount_plan::Target& target) {
    // TODO step 4: one step of the plan, on its opened target (its path
    // names it): a file system mounted there, or a host file bound over it;
    // a symlink step needs nothing more (man 2 mount, "Creating a bind mount").
    // Why mount through the opened target, not through a path in the rootfs?
    (void)step;
    (void)target;
    throw NotImplemented("lab02_mount", 4, "man 2 mount");
}

}  // namespace

unsigned long clone_flags() {
    // TODO step 1: the child gets a mount table of its own
    // (man 7 mount_namespaces). Does that change which files it sees?
    throw NotImplemented("lab02_mount", 1, "man 7 mount_namespaces");
}

void in_child(const Config& cfg) {
    // The rootfs is cfg.rootfs; the parent checked it is a directory.
    //
    // TODO step 2: nothing mounted below may propagate to the host
    // (man 7 mount_namespaces, "Shared subtrees"). Why must this come first?
    //
    // TODO step 3: the rootfs becomes a mount point, with the mounts inside
    // it (man 2 pivot_root, the rules for new_root). Why is a directory not enough?
    //
    // TODO step 4: every step of the container's mount plan, in order, each
    // with the target the given open_target opens (man 2 mount). Why before
    // pivot_root, not after?
    //
    // TODO step 5: the rootfs becomes the root mount, with no put_old
    // directory in it (man 2 pivot_root, NOTES on new_root and put_old being
    // the same). Where does the old root end up?
    //
    // TODO step 6: the old root leaves the mount table although its mounts
    // are busy, and the working directory is the new root (man 2 umount2).
    // Why lazily?
    (void)cfg;
    throw NotImplemented("lab02_mount", 2, "man 7 mount_namespaces, man 2 pivot_root");
}

}  // namespace nslab::mount

// Lab 02: the mount namespace and pivot_root.
//
// CLONE_NEWNS gives the child a copy of our mount table (mount_namespaces(7)):
// from then on, mounts and unmounts on either side are private to it, unless
// mount propagation carries them across. On its own a mount namespace does
// not change the root: the child still sees the host's files. pivot_root(2)
// makes the rootfs its root, and detaching the old root takes the host's
// files out of its reach for good (chroot(2) only moves where "/" resolves,
// which a root process can walk back out of).
#include "nslab/layers/mount.hpp"

#include <sched.h>
#include <sys/mount.h>

#include "nslab/mount_plan.hpp"
#include "nslab/sys.hpp"

namespace nslab::mount {

namespace {

// Applies one step of the plan on its target, which the given
// mount_plan::open_target() opened inside the rootfs (a symlink there is
// refused, not followed) and made when the plan says so.
void apply(const mount_plan::Step& step, const mount_plan::Target& target) {
    switch (step.kind) {
        case mount_plan::Step::Kind::filesystem:
            sys::mount(step.source, target.path(), step.fstype, step.flags, step.data);
            break;
        case mount_plan::Step::Kind::bind:
            sys::mount(step.source, target.path(), "", MS_BIND);
            break;
        case mount_plan::Step::Kind::symlink:
            break;  // open_target() made the link: nothing is mounted
    }
}

}  // namespace

unsigned long clone_flags() {
    return CLONE_NEWNS;
}

void in_child(const Config& cfg) {
    const std::string& root = cfg.rootfs;

    // Step 2. Our copy of the mount table keeps the host's propagation: on a
    // systemd host "/" is shared, and every mount below would appear on the
    // host too. Make every mount private before mounting anything.
    sys::mount("", "/", "", MS_REC | MS_PRIVATE);

    // Step 3. pivot_root(2) wants new_root to be a mount point: bind the
    // rootfs onto itself (MS_REC takes any mounts inside it along).
    sys::mount(root, root, "", MS_BIND | MS_REC);

    // Step 4. Mount the container's file systems under the rootfs now,
    // while the host's /dev is still in view for the device binds (and
    // while a fully visible /proc exists, which the kernel requires before
    // a user namespace may mount proc or sysfs).
    for (const mount_plan::Step& step : mount_plan::steps(cfg))
        apply(step, mount_plan::open_target(root, step));

    // Step 5. pivot_root(".", ".") stacks the old root on top of the new
    // one, at "/", so no put_old directory is needed: the rootfs, which
    // other containers may be using at the same time, is never written to.
    sys::chdir(root);
    sys::pivot_root(".", ".");

    // Step 6. Detach the old root (the top mount at "."): lazily, since the
    // host's mounts in it are busy. From now on nothing of the host is
    // reachable by any path, ".." or otherwise.
    sys::umount2(".", MNT_DETACH);
    sys::chdir("/");
}

}  // namespace nslab::mount

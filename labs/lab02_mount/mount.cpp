// Lab 02: the mount namespace and pivot_root.
//
// Read labs/lab02_mount/README.md first. Each TODO below is a numbered step
// of the handout; replace the `throw` with your code.
#include "nslab/layers/mount.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>

#include "nslab/errors.hpp"
#include "nslab/mount_plan.hpp"
#include "nslab/sys.hpp"

namespace nslab::mount {

namespace {

// Applies one step of the plan, with `root` (the rootfs) in front of its target.
[[maybe_unused]] void apply(const mount_plan::Step& step, const std::string& root) {
    // TODO step 4: let target = root + step.target; by step.kind:
    //  - filesystem: if step.make_target, sys::mkdir(target, 0755); then
    //    sys::mount(step.source, target, step.fstype, step.flags, step.data);
    //  - bind: if step.make_target, create an empty file to cover
    //    (sys::open(target, O_WRONLY | O_CREAT, 0644)); then
    //    sys::mount(step.source, target, "", MS_BIND);
    //  - symlink: sys::symlink(step.source, target).
    (void)step;
    (void)root;
    throw NotImplemented("lab02_mount", 4, "mount(2)");
}

}  // namespace

unsigned long clone_flags(const Config& cfg) {
    if (!cfg.has(Layer::mount)) return 0;
    // TODO step 1: the child gets a new mount namespace: return CLONE_NEWNS.
    throw NotImplemented("lab02_mount", 1, "mount_namespaces(7)");
}

void in_child(const Config& cfg) {
    if (!cfg.has(Layer::mount)) return;
    // The rootfs is cfg.rootfs; the parent checked it is a directory.
    //
    // TODO step 2: before mounting anything, make every mount of our copy
    // private: sys::mount("", "/", "", MS_REC | MS_PRIVATE).
    //
    // TODO step 3: pivot_root needs new_root to be a mount point: bind the
    // rootfs onto itself, sys::mount(root, root, "", MS_BIND | MS_REC).
    //
    // TODO step 4: for every step of mount_plan::steps(cfg), apply(step, root)
    // (and write apply() above).
    //
    // TODO step 5: sys::chdir(root), then sys::pivot_root(".", "."): the old
    // root ends up mounted on top of the new one, at ".".
    //
    // TODO step 6: detach the old root, sys::umount2(".", MNT_DETACH), and
    // sys::chdir("/").
    throw NotImplemented("lab02_mount", 2, "mount_namespaces(7), pivot_root(2)");
}

}  // namespace nslab::mount

// Lab 10: an image as the container's root, with overlayfs.
//
// An image is a stack of read-only layers, each a directory of files; the
// lowest is a whole root file system, each one above holds only what
// changed. overlayfs (filesystems/overlayfs in the kernel's documentation)
// shows the stack as one tree: a name is looked up in each layer from the
// top down, and the first layer that has it wins. Writes go to one more
// directory, the upper one, which belongs to this container alone: the
// first write to a lower file copies it up there, and a deletion leaves a
// whiteout there (a character device 0:0) that hides the lower name. The
// layers themselves are never written, so any number of containers can run
// on the same image at once, and each sees only its own changes.
#include "nslab/layers/image.hpp"

#include <sys/mount.h>

#include "nslab/sys.hpp"

namespace nslab::image {

std::string overlay_options(const Config& cfg, const image_store::Overlay& overlay) {
    // Step 1. lowerdir lists the layers top first: overlay.layers is lowest
    // first, as they were stacked. upperdir takes the container's writes;
    // workdir, on the same file system, is where overlayfs prepares a
    // copy-up before it renames it into upperdir.
    std::string lower;
    for (auto layer = overlay.layers.rbegin(); layer != overlay.layers.rend(); ++layer)
        lower += (lower.empty() ? "" : ":") + *layer;
    std::string options =
        "lowerdir=" + lower + ",upperdir=" + overlay.upper + ",workdir=" + overlay.work;
    // In a user namespace overlayfs may not write trusted.* attributes: its
    // whiteouts and opaque marks go to user.overlay.* instead.
    if (cfg.makes_userns()) options += ",userxattr";
    return options;
}

void mount_root(const Config& cfg, const image_store::Overlay& overlay) {
    // Step 2. One overlay at merged/: the mount layer then makes it the
    // root (pivot_root), as it did with the rootfs.
    sys::mount("overlay", overlay.merged, "overlay", 0, overlay_options(cfg, overlay));
}

}  // namespace nslab::image

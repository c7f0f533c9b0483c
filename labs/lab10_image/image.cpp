// Lab 10: an image as the container's root, with overlayfs.
//
// Read labs/lab10_image/README.md first. Each TODO below is a numbered step
// of the handout; replace the `throw` with your code.
#include "nslab/layers/image.hpp"

#include <sys/mount.h>

#include "nslab/errors.hpp"
#include "nslab/sys.hpp"

namespace nslab::image {

std::string overlay_options(const Config& cfg, const image_store::Overlay& overlay) {
    // TODO step 1: the options that stack the image's layers, in the right
    // order, under a directory only this container writes (the kernel's
    // Documentation/filesystems/overlayfs.rst, "Multiple lower layers";
    // man 8 mount, "Mount options for overlay"). Which layer must a name be
    // looked up in first, and why must workdir share upperdir's file system?
    (void)cfg;
    (void)overlay;
    throw NotImplemented("lab10_image", 1, "man 8 mount, overlay options");
}

void mount_root(const Config& cfg, const image_store::Overlay& overlay) {
    // TODO step 2: the container's root is one overlay of those layers at
    // overlay.merged (man 2 mount; man 8 mount, "Mount options for overlay").
    // Why may the container now write anywhere in its root, though no layer
    // of the image is ever written?
    (void)cfg;
    (void)overlay;
    throw NotImplemented("lab10_image", 2, "man 2 mount, man 8 mount");
}

}  // namespace nslab::image

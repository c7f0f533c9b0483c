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

bool make_whiteout(const Fd& dir, std::string_view name, const oci::WhiteoutForm& form) {
    // TODO step 3: an image's layer says "this name is deleted" and "this
    // directory replaces the lower one" with marker files of its own (the
    // OCI image spec, layer.md, "Whiteouts"); overlayfs understands
    // neither. When `name` is such a marker, make in `dir` what overlayfs
    // reads instead, in the form `form` describes, and return true
    // (Documentation/filesystems/overlayfs.rst, "whiteouts and opaque
    // directories"; man 2 mknod, man 2 setxattr). What would a container
    // see if the marker were unpacked as an ordinary file?
    (void)dir;
    (void)name;
    (void)form;
    throw NotImplemented("lab10_image", 3, "overlayfs.rst, man 2 mknod, man 2 setxattr");
}

}  // namespace nslab::image

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

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

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

bool make_whiteout(const Fd& dir, std::string_view name, const oci::WhiteoutForm& form) {
    // Step 3. The OCI image spec (layer.md, "Whiteouts") writes a deletion
    // as an empty file ".wh.NAME", and "this directory replaces the lower
    // one" as ".wh..wh..opq" in it; overlayfs reads neither. What it reads
    // (filesystems/overlayfs, "whiteouts and opaque directories") is made
    // here instead, in every xattr namespace the form names.
    auto mark = [&](int fd, const char* what, const char* value) {
        for (const std::string& prefix : form.prefixes)
            sys::check(::fsetxattr(fd, (prefix + what).c_str(), value, 1, 0),
                       "fsetxattr(" + prefix + what + ")");
    };
    constexpr std::string_view prefix = ".wh.", opaque = ".wh..wh..opq";
    if (name == opaque) {
        mark(dir.get(), "opaque", "y");  // lower directories of this name are not merged
        return true;
    }
    if (!name.starts_with(prefix)) return false;
    const std::string hidden(name.substr(prefix.size()));
    if (form.device) {  // a character device 0/0
        sys::check(::mknodat(dir.get(), hidden.c_str(), S_IFCHR | 0000, ::makedev(0, 0)),
                   "mknod(whiteout " + hidden + ")");
        return true;
    }
    // Without CAP_MKNOD: an empty file marked as a whiteout, in a directory
    // marked as holding such files.
    Fd file(sys::check(::openat(dir.get(), hidden.c_str(),
                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600),
                       "create(whiteout " + hidden + ")"));
    mark(file.get(), "whiteout", "y");
    char current = 0;
    if (::fgetxattr(dir.get(), (form.prefixes.front() + "opaque").c_str(), &current, 1) != 1)
        mark(dir.get(), "opaque", "x");
    return true;
}

}  // namespace nslab::image

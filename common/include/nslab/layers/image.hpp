// Lab 10: an image's layers as the container's root (overlayfs).
#pragma once

#include <string>

#include "nslab/config.hpp"
#include "nslab/fd.hpp"
#include "nslab/image_store.hpp"
#include "nslab/oci_image.hpp"

namespace nslab::image {

// The overlay's mount options for these directories.
std::string overlay_options(const Config& cfg, const image_store::Overlay& overlay);
// Child side, in its own mount namespace with every mount private, before
// the mount layer's pivot_root: the overlay at overlay.merged.
void mount_root(const Config& cfg, const image_store::Overlay& overlay);

// The whiteout rule (an oci::WhiteoutRule): the given unpacker
// (oci_image.cpp) asks it about each entry `name` of a layer's tar, in
// directory `dir` of the layer being unpacked. When the entry is a
// whiteout marker of the OCI image spec, makes in `dir` what overlayfs
// reads instead, in the given form, and returns true; else returns false
// and the entry is unpacked as it is.
bool make_whiteout(const Fd& dir, std::string_view name, const oci::WhiteoutForm& form);

}  // namespace nslab::image

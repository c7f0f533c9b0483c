// Lab 10: an image's layers as the container's root (overlayfs).
#pragma once

#include <string>

#include "nslab/config.hpp"
#include "nslab/image_store.hpp"

namespace nslab::image {

// The overlay's mount options for these directories.
std::string overlay_options(const Config& cfg, const image_store::Overlay& overlay);
// Child side, in its own mount namespace with every mount private, before
// the mount layer's pivot_root: the overlay at overlay.merged.
void mount_root(const Config& cfg, const image_store::Overlay& overlay);

}  // namespace nslab::image

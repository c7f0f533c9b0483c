// The busybox root filesystem the labs use by default, built offline.
#pragma once

#include <string>

namespace nslab::rootfs {

struct Plan {
    std::string busybox;  // a static busybox, e.g. /bin/busybox from busybox-static
    std::string probe;    // the static grader probe, installed as /bin/probe
};

// Builds the tree in a new directory next to `destination` and renames it
// into place, so a half-built rootfs is never used. Applets are relative
// symlinks to /bin/busybox, so the tree works wherever it is mounted.
void build(const std::string& destination, const Plan& plan);

// "usr/bin/awk" -> "../../bin/busybox": the relative link for an applet.
std::string applet_link_target(const std::string& applet_path);

}  // namespace nslab::rootfs

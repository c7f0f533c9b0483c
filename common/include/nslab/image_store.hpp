// Lab 10's given code: where an image's layers and a container's own
// directories are, made before the clone and removed after the exit. The
// layer file (labs/lab10_image/image.cpp) mounts them; this file never does.
//
// A container of an image has a directory of its own under state_root:
// upper/ (what it writes), work/ (overlayfs's scratch space: it must be on
// the file system of upper/, since overlayfs moves files between the two
// with rename(2)) and merged/ (where the overlay is mounted, the new root).
// An owner file names the runtime, so `nslab cleanup` can tell a directory a
// SIGKILLed runtime left behind from one in use.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "nslab/config.hpp"

namespace nslab::image_store {

// Root's; a rootless runtime (a user, --userns) keeps its containers in
// /tmp/nslab-<uid>/containers, a 0700 directory of its own (refused when
// that name is not a directory the user owns), removed once empty.
inline constexpr const char* state_root = "/var/lib/nslab/containers";
std::string state_root_for(uid_t euid);

// A rootless caller's `root` under /tmp/nslab-<uid>: that base must be a
// 0700 directory the caller owns, never a name someone else made (in /tmp
// anyone may make any name first); root is made in it. Throws otherwise.
void make_own_root(const std::string& root);

struct Overlay {
    std::vector<std::string> layers;  // the image, lowest first: --rootfs, then each --layer
    std::string root;                 // state_root_for(the caller)
    std::string dir;                  // root/<id>: this container's own
    std::string upper;                // dir/upper
    std::string work;                 // dir/work
    std::string merged;               // dir/merged
};

// The paths for this container (pure: nothing is made).
Overlay plan(const Config& cfg);

// Parent side, before clone: every layer is a directory whose path overlayfs
// can take (no ',', ':' or '\\', which its options would split on), and
// --keep-changes DIR does not exist yet and its parent is on state_root's
// file system (the upper directory is renamed there, never copied). Throws
// std::runtime_error with one line naming the option. (The orchestrator
// calls this file only in labs with the image layer.)
void check(const Config& cfg);

// Parent side, once the child exists and its id maps are written (before it
// may go on): makes dir, upper, work and merged, and the owner file; with
// --userns, upper, work and merged belong to the container's root (the host
// uid its 0 maps to).
Overlay prepare(const Config& cfg);

// Parent side, after the exit: with --keep-changes the upper directory
// becomes DIR; then this container's directory is removed, whatever is in
// it. Never throws; an empty Overlay is nothing to do.
void after_exit(const Config& cfg, const Overlay& overlay) noexcept;

// `nslab cleanup`: the directories under state_root (and under each user's
// /tmp/nslab-<uid>/containers) whose runtime is gone
// (its owner file names a process that no longer runs) are removed; returns
// what was removed, appends what could not be to `errors`.
std::vector<std::string> cleanup_stale(std::vector<std::string>* errors);

}  // namespace nslab::image_store

// The container's file systems as a plan: a pure function of the Config that
// lists, in order, what goes where under the new root. The mount layer
// applies it; unit tests check it without root (tests/unit/mount_plan_test.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "nslab/config.hpp"
#include "nslab/fd.hpp"

namespace nslab::mount_plan {

struct Step {
    enum class Kind {
        filesystem,  // mount(source, target, fstype, flags, data): a fresh instance
        bind,        // mount(source, target, MS_BIND): a host file, e.g. /dev/null
        symlink,     // symlink(source, target): source is the link's text
    };
    Kind kind = Kind::filesystem;
    std::string source;
    std::string target;  // absolute, as the container sees it: "/dev/pts"
    std::string fstype;
    unsigned long flags = 0;  // MS_* flags
    std::string data;         // file-system options: "mode=755"
    // The target is made first (directory, empty file or link). Only ever
    // true inside a tmpfs an earlier step mounted: the rootfs is shared by
    // every container that uses it and is never written to.
    bool make_target = false;
    bool operator==(const Step&) const = default;
};

// Every step of the mount layer, parents before children. Later layers
// mount what is theirs in their own in_child, after pivot_root, where the
// step is taught (ipc: /dev/mqueue in its new IPC namespace; cgroup: the
// cgroupfs of its new cgroup namespace, read-only).
std::vector<Step> steps(const Config& cfg);

// A step's target, opened inside the rootfs: mount(2) on path() mounts on
// exactly the directory (or file) that was opened.
struct Target {
    Fd fd;  // O_PATH; none for a symlink step (open_target made the link)
    std::string path() const { return "/proc/self/fd/" + std::to_string(fd.get()); }
};

// Child side, before pivot_root (given code): opens step.target below the
// rootfs `root` with openat2(2) RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS, so no
// symlink in the rootfs is followed and ".." cannot climb out of it; makes
// the target first when step.make_target (in a tmpfs of the plan), and makes
// the link of a symlink step. A symlinked target throws one line naming it.
Target open_target(const std::string& root, const Step& step);

// Child side, after pivot_root (given code, the orchestrator calls it): the
// new root mount becomes read-only (unless --rootfs-writable), nosuid and
// nodev, so no container changes what the next one runs; /proc must be a
// procfs (statfs(2) PROC_SUPER_MAGIC).
void lock_down(const Config& cfg);

// A detached copy of the mount at `path` (open_tree(2) OPEN_TREE_CLONE;
// with `recursive`, the mounts below it too, as rbind): unlike a plain fd,
// it can still be attached after pivot_root has detached the host's tree
// that `path` lives in. Lab 04's /etc/hosts and a bundle's binds (lab 12).
Fd detached_copy(const std::string& path, bool recursive = false);
// Attaches a detached tree (move_mount(2)) at `target`, a path, or an O_PATH fd.
void attach(const Fd& tree, const std::string& target);
void attach(const Fd& tree, const Fd& target);

// Lab 12: an OCI bundle's binds and tmpfs (Config::mounts). Child side,
// before pivot_root, while the host's paths are in view: one detached
// copy per bind, private, with its ro/nosuid/nodev/noexec set on it
// (mount_setattr(2)); an empty Fd for a tmpfs.
std::vector<Fd> open_extra_mounts(const Config& cfg);
// After pivot_root, before lock_down: each attached in the config's order
// on its destination, made (with its parents) when missing. The
// destination is resolved inside the container's root (openat2(2)
// RESOLVE_IN_ROOT): a symlink in the rootfs cannot lead out of it, nor onto
// /proc or /sys. A tmpfs with "tmpcopyup" starts with a copy of what it covers.
void attach_extra_mounts(const Config& cfg, const std::vector<Fd>& trees);

// Parent side, before clone: --rootfs names a directory other than the
// host's own root (by device and inode: a bind mount of / is / too),
// holding every directory the plan mounts on (not a symlink), and
// pivot_root(2) can work here. --rootfs-writable on the shared default
// rootfs prints a warning. Throws std::runtime_error with one line that names the option.
void check_rootfs(const Config& cfg);

// Why pivot_root(2) cannot work for a process whose /proc/self/mountinfo
// is this text, or "" when it can: its / must be the root of a mount (not
// a chroot), and that mount must not be the initial ramfs (the first
// namespace's root mount, which has no parent and cannot be moved).
std::string pivot_root_blocker(std::string_view mountinfo);

}  // namespace nslab::mount_plan

#include "nslab/mount_plan.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <dirent.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "nslab/sys.hpp"

namespace nslab::mount_plan {

namespace {

Step filesystem(const std::string& type, const std::string& target, unsigned long flags,
                const std::string& data = {}) {
    return {.kind = Step::Kind::filesystem,
            .source = type,
            .target = target,
            .fstype = type,
            .flags = flags,
            .data = data};
}

// The same path on the host and in the container.
Step bind_host(const std::string& path) {
    Step step;
    step.kind = Step::Kind::bind;
    step.source = step.target = path;
    return step;
}

Step symlink(const std::string& text, const std::string& target) {
    Step step;
    step.kind = Step::Kind::symlink;
    step.source = text;
    step.target = target;
    return step;
}

// The file system of an earlier step that step `i`'s target lies in, or
// nullptr when the target lies in the rootfs itself.
const Step* mounted_over(const std::vector<Step>& plan, size_t i) {
    const std::string& path = plan[i].target;
    const Step* found = nullptr;
    for (size_t j = 0; j < i; ++j) {
        const std::string& dir = plan[j].target;
        bool below = path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                     path[dir.size()] == '/';
        if (below && plan[j].kind == Step::Kind::filesystem) found = &plan[j];
    }
    return found;
}

// Why a mount target is refused: one line, the same before clone and in the child.
std::string not_followed(const std::string& root, const std::string& target) {
    return "--rootfs " + root + ": " + target +
           " is a symbolic link (or passes through one); a mount target must be a "
           "directory of the rootfs itself";
}

Fd open_in_root(const Fd& dir, const std::string& path, int flags, const std::string& root,
                const std::string& target) {
    try {
        return sys::openat2(dir, path, flags,
                            RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    } catch (const std::system_error& e) {
        if (e.code().value() == ELOOP) throw std::runtime_error(not_followed(root, target));
        throw;
    }
}

}  // namespace

Target open_target(const std::string& root, const Step& step) {
    const std::string relative = step.target.substr(1);  // "dev/pts"
    const size_t slash = relative.rfind('/');
    const std::string parent = slash == std::string::npos ? "." : relative.substr(0, slash);
    const std::string name = relative.substr(slash == std::string::npos ? 0 : slash + 1);
    Fd top = sys::open(root, O_PATH | O_DIRECTORY);
    Fd dir = open_in_root(top, parent, O_PATH | O_DIRECTORY, root, step.target);
    const std::string what = "(" + step.target + ")";
    if (step.kind == Step::Kind::symlink) {
        sys::check(::symlinkat(step.source.c_str(), dir.get(), name.c_str()), "symlinkat" + what);
        return {};
    }
    if (step.make_target && step.kind == Step::Kind::filesystem &&
        ::mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
        sys::fail("mkdirat" + what);
    if (step.make_target && step.kind == Step::Kind::bind)  // an empty file to cover
        Fd(sys::check(
            ::openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644),
            "openat" + what));
    const int type = step.kind == Step::Kind::filesystem ? O_DIRECTORY : 0;
    return {open_in_root(dir, name, O_PATH | type, root, step.target)};
}

void lock_down(const Config& cfg) {
    // A bind remount replaces the mount's flags: keep those the kernel may
    // have locked (a user namespace may add restrictions, never drop them).
    struct statvfs st {};
    sys::check(::statvfs("/", &st), "statvfs(/)");
    unsigned long kept = st.f_flag & (ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | kept;
    if (!cfg.rootfs_writable) flags |= MS_RDONLY;
    sys::mount("", "/", "", flags);
    // A rootfs could have turned /proc into something else (a symlink is
    // refused before; this checks what is there now).
    if (sys::statfs("/proc").f_type != PROC_SUPER_MAGIC)
        throw std::runtime_error("--rootfs " + cfg.rootfs +
                                 ": /proc inside is not a procfs after mounting it");
}

std::vector<Step> steps(const Config& cfg) {
    std::vector<Step> plan;
    // procfs shows the PID namespace of the process that mounts it: the
    // container's PID 1 mounts it, so ps inside sees only the container.
    plan.push_back(filesystem("proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC));
    // A minimal /dev: a tmpfs holding only the devices programs expect,
    // bound from the host's /dev (a user namespace may not mknod, but it
    // may bind), never the host's disks.
    plan.push_back(filesystem("tmpfs", "/dev", MS_NOSUID | MS_STRICTATIME, "mode=755,size=64k"));
    for (const char* device : {"null", "zero", "full", "random", "urandom", "tty"})
        plan.push_back(bind_host(std::string("/dev/") + device));
    // A private devpts instance: the container's terminals are its own.
    plan.push_back(filesystem("devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC,
                              "newinstance,ptmxmode=0666,mode=0620"));
    plan.push_back(symlink("pts/ptmx", "/dev/ptmx"));
    plan.push_back(symlink("/proc/self/fd", "/dev/fd"));
    plan.push_back(symlink("/proc/self/fd/0", "/dev/stdin"));
    plan.push_back(symlink("/proc/self/fd/1", "/dev/stdout"));
    plan.push_back(symlink("/proc/self/fd/2", "/dev/stderr"));
    // /dev/shm and /tmp are sized (--tmpfs-size): an unsized tmpfs may
    // take half the host's memory, and without --memory nothing else stops it.
    const std::string sized = "mode=1777,size=" + std::to_string(cfg.tmpfs_size);
    plan.push_back(filesystem("tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, sized));
    // sysfs read-only: the container may look at the host's devices, not
    // reconfigure them.
    plan.push_back(filesystem("sysfs", "/sys", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
    if (cfg.own_tmp) plan.push_back(filesystem("tmpfs", "/tmp", MS_NOSUID | MS_NODEV, sized));

    // A target is made only inside a tmpfs of this plan, never in the rootfs.
    for (size_t i = 0; i < plan.size(); ++i) {
        const Step* over = mounted_over(plan, i);
        plan[i].make_target = over && over->fstype == "tmpfs";
    }
    return plan;
}

Fd detached_copy(const std::string& path, bool recursive) {
    const unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
    return Fd(sys::check(::open_tree(AT_FDCWD, path.c_str(), flags), "open_tree(" + path + ")"));
}

void attach(const Fd& tree, const std::string& target) {
    sys::check(::move_mount(tree.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH),
               "move_mount(" + target + ")");
}

void attach(const Fd& tree, const Fd& target) {
    sys::check(::move_mount(tree.get(), "", target.get(), "",
                            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH),
               "move_mount(" + std::to_string(target.get()) + ")");
}

namespace {

// MS_* flags as mount_setattr(2) spells them.
std::uint64_t attributes_of(unsigned long flags) {
    std::uint64_t attributes = 0;
    if (flags & MS_RDONLY) attributes |= MOUNT_ATTR_RDONLY;
    if (flags & MS_NOSUID) attributes |= MOUNT_ATTR_NOSUID;
    if (flags & MS_NODEV) attributes |= MOUNT_ATTR_NODEV;
    if (flags & MS_NOEXEC) attributes |= MOUNT_ATTR_NOEXEC;
    return attributes;
}

constexpr std::uint64_t in_root = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

// `destination` opened (O_PATH) in our root, made when missing: its
// parents as directories, itself as a directory or an empty file. Never on
// a procfs or sysfs, wherever a symlink pointed.
Fd make_destination(const std::string& destination, bool directory) {
    const Fd root = sys::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    std::vector<std::string> parts;
    std::istringstream names(destination);
    for (std::string name; std::getline(names, name, '/');)
        if (!name.empty()) parts.push_back(name);
    if (parts.empty()) throw std::runtime_error("config.json: a mount on / itself");
    std::string path;
    Fd parent = sys::openat2(root, ".", O_PATH | O_DIRECTORY, in_root);
    for (size_t i = 0; i < parts.size(); ++i) {
        const bool last = i + 1 == parts.size();
        path += (path.empty() ? "" : "/") + parts[i];
        const int type = last && !directory ? 0 : O_DIRECTORY;
        try {
            parent = sys::openat2(root, path, O_PATH | type, in_root);  // at last: itself
            continue;
        } catch (const std::system_error& e) {
            if (e.code().value() != ENOENT) throw;
        }
        // Made below the parent we resolved, never through a link.
        if (last && !directory)
            Fd(sys::check(::openat(parent.get(), parts[i].c_str(),
                                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644),
                          "openat(" + destination + ")"));
        else if (::mkdirat(parent.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST)
            sys::fail("mkdirat(/" + path + ")");
        parent = sys::openat2(root, path, O_PATH | type, in_root);
    }
    struct statfs where {};
    sys::check(::fstatfs(parent.get(), &where), "fstatfs(" + destination + ")");
    if (where.f_type == PROC_SUPER_MAGIC || where.f_type == SYSFS_MAGIC)
        throw std::runtime_error(
            "config.json: mount on " + destination +
            ": it leads into /proc or /sys, which nslab keeps as it made them");
    return parent;
}

// tmpcopyup: what the tmpfs covers, copied in with its modes and owners
// (directories, files, symlinks; a device node or FIFO is left out).
void copy_tree(int from, int to) {
    DIR* dir = ::fdopendir(sys::check(::dup(from), "dup()"));
    if (!dir) sys::fail("fdopendir()");
    ScopeGuard close_dir([&] { ::closedir(dir); });
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        struct stat st {};
        sys::check(::fstatat(from, name.c_str(), &st, AT_SYMLINK_NOFOLLOW),
                   "fstatat(" + name + ")");
        if (S_ISDIR(st.st_mode)) {
            sys::check(::mkdirat(to, name.c_str(), 0700), "mkdirat(" + name + ")");
            Fd below_from(sys::check(
                ::openat(from, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
                "openat(" + name + ")"));
            Fd below_to(sys::check(
                ::openat(to, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
                "openat(" + name + ")"));
            copy_tree(below_from.get(), below_to.get());
        } else if (S_ISREG(st.st_mode)) {
            Fd in(sys::check(::openat(from, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC),
                             "openat(" + name + ")"));
            Fd out(sys::check(::openat(to, name.c_str(),
                                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600),
                              "openat(" + name + ")"));
            char buffer[65536];
            for (ssize_t n;
                 (n = sys::check(::read(in.get(), buffer, sizeof buffer), "read()")) > 0;)
                for (ssize_t done = 0; done < n;)
                    done += sys::check(::write(out.get(), buffer + done, n - done), "write()");
        } else if (S_ISLNK(st.st_mode)) {
            char text[4096];
            const ssize_t n = sys::check(::readlinkat(from, name.c_str(), text, sizeof text - 1),
                                         "readlinkat(" + name + ")");
            text[n] = '\0';
            sys::check(::symlinkat(text, to, name.c_str()), "symlinkat(" + name + ")");
        } else {
            continue;
        }
        sys::check(::fchownat(to, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW),
                   "fchownat(" + name + ")");
        if (!S_ISLNK(st.st_mode))
            sys::check(::fchmodat(to, name.c_str(), st.st_mode & 07777, 0),
                       "fchmodat(" + name + ")");
    }
}

}  // namespace

std::vector<Fd> open_extra_mounts(const Config& cfg) {
    std::vector<Fd> trees;
    for (const ExtraMount& mount : cfg.mounts) {
        if (mount.kind != ExtraMount::Kind::bind) {
            trees.emplace_back();
            continue;
        }
        Fd tree = detached_copy(mount.source, mount.recursive);
        // Private, whatever the host's mount is: nothing the container
        // mounts below it reaches the host, nor the host's mounts it.
        struct mount_attr attr {};
        attr.attr_set = attributes_of(mount.flags);
        attr.propagation = MS_PRIVATE;
        sys::check(
            ::mount_setattr(tree.get(), "", AT_EMPTY_PATH | (mount.recursive ? AT_RECURSIVE : 0),
                            &attr, sizeof attr),
            "mount_setattr(" + mount.source + ")");
        trees.push_back(std::move(tree));
    }
    return trees;
}

void attach_extra_mounts(const Config& cfg, const std::vector<Fd>& trees) {
    for (size_t i = 0; i < cfg.mounts.size(); ++i) {
        const ExtraMount& mount = cfg.mounts[i];
        if (mount.kind == ExtraMount::Kind::bind) {
            struct stat source {};
            sys::check(::fstatat(trees[i].get(), "", &source, AT_EMPTY_PATH),
                       "fstat(" + mount.source + ")");
            attach(trees[i], make_destination(mount.destination, S_ISDIR(source.st_mode)));
            continue;
        }
        const Fd target = make_destination(mount.destination, true);
        Fd under;  // what the tmpfs will cover, still reachable through this fd
        if (mount.copy_up)
            under = Fd(sys::check(::openat(target.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                                  "open(" + mount.destination + ")"));
        sys::mount("tmpfs", "/proc/self/fd/" + std::to_string(target.get()), "tmpfs", mount.flags,
                   mount.data);
        if (!mount.copy_up) continue;
        const Fd root = sys::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        const Fd top =
            sys::openat2(root, mount.destination.substr(1), O_RDONLY | O_DIRECTORY, in_root);
        copy_tree(under.get(), top.get());
    }
}

void check_rootfs(const Config& cfg) {
    const std::string option = "--rootfs " + cfg.rootfs;
    struct stat st {};
    if (::stat(cfg.rootfs.c_str(), &st) != 0)
        throw std::runtime_error(option + ": " + std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) throw std::runtime_error(option + ": not a directory");
    struct stat host_root {};
    sys::check(::stat("/", &host_root), "stat(/)");
    if (st.st_dev == host_root.st_dev && st.st_ino == host_root.st_ino)
        throw std::runtime_error(option + ": the host's own root cannot be a container's root");
    // Lab 10's rootfs is the image's lowest layer, under an overlay: the
    // container writes to its upper directory, never to the rootfs.
    std::error_code no_default;
    if (cfg.rootfs_writable && !cfg.has(Layer::image) &&
        std::filesystem::equivalent(cfg.rootfs, NSLAB_DEFAULT_ROOTFS, no_default))
        std::fprintf(stderr,
                     "%s: warning: --rootfs-writable on the shared rootfs %s: this container "
                     "can change what every later one runs; use a private copy\n",
                     cfg.program.c_str(), cfg.rootfs.c_str());
    const std::vector<Step> plan = steps(cfg);
    for (size_t i = 0; i < plan.size(); ++i) {
        if (mounted_over(plan, i)) continue;
        struct stat target {};
        const std::string path = cfg.rootfs + plan[i].target;
        if (::lstat(path.c_str(), &target) == 0 && S_ISLNK(target.st_mode))
            throw std::runtime_error(not_followed(cfg.rootfs, plan[i].target));
        if (::stat(path.c_str(), &target) != 0 || !S_ISDIR(target.st_mode))
            throw std::runtime_error(option + ": no " + plan[i].target + " directory to mount " +
                                     plan[i].fstype + " on (a rootfs is never written to)");
    }
    std::string blocker = pivot_root_blocker(sys::read_file("/proc/self/mountinfo"));
    if (!blocker.empty()) throw std::runtime_error(option + ": " + blocker);
}

std::string pivot_root_blocker(std::string_view mountinfo) {
    // Each line: "ID PARENT MAJ:MIN ROOT MOUNT-POINT ...", paths relative to
    // the reader's root; a mount the reader's root cannot reach is not listed.
    std::istringstream lines{std::string(mountinfo)};
    bool root_listed = false;
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, mount_point;
        if (!(fields >> id >> parent >> device >> root >> mount_point) || mount_point != "/")
            continue;
        root_listed = true;
        if (id == parent)
            return "the host's / is the initial ramfs, which pivot_root(2) cannot move "
                   "(boot with a real root file system, or switch_root first)";
    }
    if (!root_listed)
        return "this process's / is not the root of a mount (a chroot?), so pivot_root(2) "
               "cannot work here";
    return {};
}

}  // namespace nslab::mount_plan

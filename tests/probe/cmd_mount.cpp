// Lab 02's probe subcommands: what a container's file systems look like
// from inside, and whether the host's files can be reached from there.
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>

#include "probe.hpp"

namespace {

using probe::Args;

// "entry: NAME TYPE [MAJ:MIN | -> TARGET]" for each entry of a directory.
int cmd_ls(const Args& args) {
    const std::string dir = args.at(0);
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        std::perror(dir.c_str());
        return 1;
    }
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        struct stat st {};
        std::string path = dir + "/" + name;
        if (::lstat(path.c_str(), &st) != 0) continue;
        std::cout << "entry: " << name << " ";
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
            std::cout << (S_ISCHR(st.st_mode) ? "c " : "b ") << major(st.st_rdev) << ":"
                      << minor(st.st_rdev);
        else if (S_ISLNK(st.st_mode)) {
            char target[512] = {};
            ::readlink(path.c_str(), target, sizeof target - 1);
            std::cout << "l -> " << target;
        } else
            std::cout << (S_ISDIR(st.st_mode) ? "d" : S_ISREG(st.st_mode) ? "f" : "o");
        std::cout << "\n";
    }
    ::closedir(d);
    return 0;
}

int cmd_readonly(const Args& args) {
    struct statvfs vfs {};
    if (::statvfs(args.at(0).c_str(), &vfs) != 0) {
        std::perror(args.at(0).c_str());
        return 1;
    }
    std::cout << "readonly: " << ((vfs.f_flag & ST_RDONLY) ? 1 : 0) << "\n";
    return 0;
}

bool reachable(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

// Runs one escape technique in a child (they change the child's root and
// working directory) and prints "escape.NAME: reached" or "blocked".
void attempt(const std::string& name, const std::function<bool()>& technique) {
    std::cout.flush();
    pid_t child = ::fork();
    if (child == 0) ::_exit(technique() ? 0 : 1);
    int status = 0;
    ::waitpid(child, &status, 0);
    bool reached = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::cout << "escape." << name << ": " << (reached ? "reached" : "blocked") << "\n";
}

// MARKER: an absolute path of a host file outside the rootfs. Tries the
// classic ways out of a chroot, and says for each whether MARKER was reached.
int cmd_escape(const Args& args) {
    const std::string marker = args.at(0);
    const std::string relative = marker.substr(1);  // from the host's "/"
    std::cout << "escape.direct: " << (reachable(marker) ? "reached" : "blocked") << "\n";

    // ".." at the root of a process stays at its root.
    attempt("dotdot", [&] {
        if (::chdir("/") != 0) return false;
        for (int i = 0; i < 64; ++i)
            if (::chdir("..") != 0) return false;
        return reachable(relative);
    });

    // chroot(2) moves the root but not the working directory: from a
    // working directory outside the new root, ".." walks up past the old
    // root, which is no longer the root; chroot(".") there.
    char dir[] = "/tmp/escape.XXXXXX";
    if (::mkdtemp(dir)) {
        attempt("chroot", [&] {
            if (::chdir("/") != 0 || ::chroot(dir) != 0) return false;
            for (int i = 0; i < 64; ++i)
                if (::chdir("..") != 0) return false;
            return ::chroot(".") == 0 && reachable(marker);
        });
        ::rmdir(dir);
    } else {
        std::cout << "escape.chroot: failed: mkdtemp(/tmp): " << std::strerror(errno) << "\n";
    }

    // Another process's root, and ".." from it, as /proc links them.
    attempt("proc-root", [&] {
        DIR* d = ::opendir("/proc");
        if (!d) return false;
        bool reached = false;
        while (dirent* e = ::readdir(d)) {
            if (std::atoi(e->d_name) <= 0) continue;
            std::string root = std::string("/proc/") + e->d_name + "/root";
            reached |= reachable(root + marker) || reachable(root + "/../../.." + marker);
        }
        ::closedir(d);
        return reached;
    });
    return 0;
}

const probe::Register r_ls("ls", cmd_ls, "DIR: list entries with type, device numbers, link text");
const probe::Register r_readonly("readonly", cmd_readonly, "PATH: is its mount read-only (1/0)");
const probe::Register r_escape("escape", cmd_escape,
                               "MARKER: try ../chroot//proc tricks to reach a host file");

}  // namespace

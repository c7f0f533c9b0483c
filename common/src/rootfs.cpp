#include "nslab/rootfs.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "nslab/command.hpp"
#include "nslab/sys.hpp"

namespace fs = std::filesystem;

namespace nslab::rootfs {

namespace {

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

std::string applet_link_target(const std::string& applet_path) {
    std::string target;
    fs::path parent = fs::path(applet_path).parent_path();
    for (auto it = parent.begin(); it != parent.end(); ++it) target += "../";
    return target + "bin/busybox";
}

void build(const std::string& destination, const Plan& plan) {
    fs::path final_dir(destination);
    fs::path work = final_dir.string() + ".new";
    fs::remove_all(work);
    for (const char* dir : {"bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev",
                            "tmp", "root", "home", "run", "var/tmp"})
        fs::create_directories(work / dir);
    fs::permissions(work / "tmp", fs::perms::all | fs::perms::sticky_bit);
    fs::copy_file(plan.busybox, work / "bin/busybox");
    fs::copy_file(plan.probe, work / "bin/probe");

    // busybox --list-full prints every applet with its usual path.
    std::string applets = command::output_of({plan.busybox, "--list-full"});
    size_t start = 0;
    while (start < applets.size()) {
        size_t end = applets.find('\n', start);
        std::string applet = applets.substr(start, end - start);
        start = end == std::string::npos ? applets.size() : end + 1;
        if (applet.empty() || applet == "bin/busybox") continue;
        fs::path link = work / applet;
        fs::create_directories(link.parent_path());
        if (!fs::exists(fs::symlink_status(link)))
            fs::create_symlink(applet_link_target(applet), link);
    }

    write_text(work / "etc/passwd",
               "root:x:0:0:root:/root:/bin/sh\n"
               "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
    write_text(work / "etc/group", "root:x:0:\nnogroup:x:65534:\n");
    write_text(work / "etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost\n");
    // What a bridged container's runtime binds its own files over (lab 04).
    write_text(work / "etc/resolv.conf", "");
    write_text(work / "etc/os-release", "NAME=\"nslab busybox rootfs\"\nID=nslab\n");

    fs::remove_all(final_dir);
    fs::rename(work, final_dir);
}

}  // namespace nslab::rootfs

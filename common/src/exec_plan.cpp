#include "nslab/exec_plan.hpp"

#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "nslab/cgroup_plan.hpp"
#include "nslab/parse.hpp"
#include "nslab/sys.hpp"

namespace nslab::exec_plan {

namespace {

// Lines of a text, or fields of a line (separator ',').
std::vector<std::string> pieces(std::string_view text, char separator) {
    std::istringstream in{std::string(text)};
    std::vector<std::string> result;
    for (std::string piece; std::getline(in, piece, separator);) result.push_back(piece);
    return result;
}

struct CgroupMount {
    std::string root, mount_point, fstype;
    std::vector<std::string> options;
};

std::vector<CgroupMount> cgroup_mounts(std::string_view mountinfo) {
    std::vector<CgroupMount> mounts;
    for (const auto& line : pieces(mountinfo, '\n')) {
        // "ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPER-OPTIONS"
        size_t dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream left(line.substr(0, dash)), right(line.substr(dash + 3));
        std::string id, parent, device, fstype, source, options;
        CgroupMount mount;
        left >> id >> parent >> device >> mount.root >> mount.mount_point;
        right >> fstype >> source >> options;
        if (fstype != "cgroup" && fstype != "cgroup2") continue;
        mount.fstype = fstype;
        mount.options = pieces(options, ',');
        mounts.push_back(mount);
    }
    return mounts;
}

bool serves(const CgroupMount& mount, const cgroupfs::ProcCgroupLine& line) {
    if (line.id == 0) return mount.fstype == "cgroup2";
    if (mount.fstype != "cgroup") return false;
    for (const auto& controller : line.controllers)
        if (std::find(mount.options.begin(), mount.options.end(), controller) ==
            mount.options.end())
            return false;
    return true;
}

}  // namespace

int clone_flag(std::string_view type) {
    static const std::map<std::string_view, int> flags = {
        {"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC},
        {"uts", CLONE_NEWUTS},   {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID},
        {"time", CLONE_NEWTIME}, {"mnt", CLONE_NEWNS}};
    return flags.at(type);
}

pid_t target_pid(const Config& cfg) {
    if (cfg.pid_file.empty()) return cfg.target;
    std::string text;
    try {
        text = sys::read_value(cfg.pid_file);
    } catch (const std::system_error& e) {
        throw std::runtime_error("cannot read --pid-file " + cfg.pid_file + ": " +
                                 std::strerror(e.code().value()));
    }
    return static_cast<pid_t>(parse::positive("--pid-file " + cfg.pid_file, text));
}

std::vector<std::string> owned_outside(const std::map<std::string, Fd>& ns) {
    auto user = ns.find("user");
    if (user == ns.end()) return {};
    struct stat target_user {};
    sys::check(::fstat(user->second.get(), &target_user), "fstat(user namespace)");
    std::vector<std::string> types;
    for (const auto& [type, fd] : ns) {
        if (type == "user") continue;
        Fd owner(
            sys::check(::ioctl(fd.get(), NS_GET_USERNS), "ioctl(" + type + ", NS_GET_USERNS)"));
        struct stat st {};
        sys::check(::fstat(owner.get(), &st), "fstat(owner of " + type + ")");
        if (st.st_ino != target_user.st_ino || st.st_dev != target_user.st_dev)
            types.push_back(type);
    }
    return types;
}

std::vector<std::string> cgroup_procs_files(std::string_view target, std::string_view own,
                                            std::string_view mountinfo) {
    const auto ours = cgroupfs::parse_proc_cgroup(own);
    const auto mounts = cgroup_mounts(mountinfo);
    std::vector<std::string> files;
    for (const auto& line : cgroupfs::parse_proc_cgroup(target)) {
        if (std::find(ours.begin(), ours.end(), line) != ours.end()) continue;  // there already
        auto mount = std::find_if(mounts.begin(), mounts.end(), [&](const CgroupMount& m) {
            return serves(m, line) &&
                   (m.root == "/" || line.path == m.root || line.path.rfind(m.root + "/", 0) == 0);
        });
        if (mount == mounts.end())
            throw std::runtime_error("cannot join the cgroup " + line.path + " of hierarchy " +
                                     std::to_string(line.id) +
                                     ": no cgroup file system for it is mounted here");
        std::string below = mount->root == "/" ? line.path : line.path.substr(mount->root.size());
        if (below == "/") below.clear();
        files.push_back(mount->mount_point + below + "/cgroup.procs");
    }
    return files;
}

void rethrow_explained(const std::system_error& e, pid_t pid) {
    const int error = e.code().value();
    if (error == ESRCH || (error == ENOENT && !sys::exists("/proc/" + std::to_string(pid))))
        throw std::runtime_error("no such process: PID " + std::to_string(pid));
    if (error == EPERM || error == EACCES)
        throw std::runtime_error(
            "permission denied joining PID " + std::to_string(pid) +
            " (run as root, or as the owner of its user namespace): " + e.what());
    throw e;
}

}  // namespace nslab::exec_plan

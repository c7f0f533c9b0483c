#include "cleanup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>

#include "image.hpp"
#include "nslab/cgroupfs.hpp"
#include "nslab/fd.hpp"
#include "nslab/image_store.hpp"
#include "nslab/net_host.hpp"
#include "nslab/oci_image.hpp"
#include "nslab/oci_leftovers.hpp"
#include "nslab/oci_state.hpp"
#include "nslab/sys.hpp"
#include "sandbox.hpp"

namespace tool {

// A runtime undoes its own set-up when it ends, even on SIGINT or SIGTERM;
// only SIGKILL (or a power cut) leaves things behind: the container itself
// dies with the runtime (PR_SET_PDEATHSIG), and with it its namespaces, but
// the cgroup directory, the address lease and, until the kernel tears the
// network namespace down, the host end of the veth stay. Each layer knows
// what it makes; this only asks each to remove what has no live owner.
// Lab 12's runtime leaves by design, its container running on: a state
// directory goes once its container has stopped or its create was killed
// (oci_leftovers.hpp).
namespace {

namespace sys = nslab::sys;

// What a SIGKILLed IPC grader (tests/graders/ipc_claims.cpp) leaves in the
// host's IPC namespace: a POSIX queue /nslab-grader-PID-N and a SysV segment
// whose key carries PID. Neither goes away with its maker, and every queue
// counts against root's RLIMIT_MSGQUEUE until it is unlinked.
constexpr std::string_view grader_queue_prefix = "nslab-grader-";

// EPERM: it exists, we just may not signal it.
bool alive(pid_t pid) {
    return ::kill(pid, 0) == 0 || errno == EPERM;
}

// "nslab-grader-PID-N": PID.
std::optional<pid_t> grader_of_queue(std::string_view name) {
    if (!name.starts_with(grader_queue_prefix)) return {};
    name.remove_prefix(grader_queue_prefix.size());
    pid_t pid = 0;
    auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (error != std::errc() || pid <= 0 || end == name.data() + name.size() || *end != '-')
        return {};
    return pid;
}

// ipc_claims.cpp's key_for: 0x6e000000 | PID << 3 | N (a PID fits in 22 bits).
std::optional<pid_t> grader_of_key(long long key) {
    if ((key & ~0x1ffffffLL) != 0x6e000000) return {};
    const auto pid = static_cast<pid_t>((key >> 3) & 0x3fffff);
    if (pid <= 0) return {};
    return pid;
}

// The queues of our IPC namespace are the files of an mqueue file system
// (mq_overview(7)). A detached mount of our own (fsmount(2)) shows this
// namespace's even where /dev/mqueue is missing or a leftover from another
// namespace, and leaves nothing mounted.
constexpr long mqueue_magic = 0x19800202;  // MQUEUE_MAGIC, not in any uapi header
std::vector<std::string> queue_names() {
    nslab::Fd dir;
    try {
        nslab::Fd context(sys::check(::fsopen("mqueue", FSOPEN_CLOEXEC), "fsopen(mqueue)"));
        sys::check(::fsconfig(context.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0),
                   "fsconfig(mqueue, create)");
        nslab::Fd detached(
            sys::check(::fsmount(context.get(), FSMOUNT_CLOEXEC, 0), "fsmount(mqueue)"));
        dir = nslab::Fd(sys::check(
            ::openat(detached.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), "open(mqueue)"));
    } catch (const std::system_error& e) {
        // A kernel before 5.2, or no CAP_SYS_ADMIN: the usual mount, if any.
        if (!sys::exists("/dev/mqueue") || sys::statfs("/dev/mqueue").f_type != mqueue_magic)
            throw std::runtime_error(std::string(e.what()) +
                                     ", and no mqueue is mounted on /dev/mqueue");
        dir = sys::open("/dev/mqueue", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> listing(::fdopendir(dir.get()), ::closedir);
    if (!listing) sys::fail("fdopendir(mqueue)");
    dir.release();  // the DIR owns it now
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(listing.get()))
        if (entry->d_name[0] != '.') names.emplace_back(entry->d_name);
    return names;
}

std::vector<std::string> remove_dead_graders_queues(std::vector<std::string>& errors) {
    std::vector<std::string> removed, names;
    try {
        names = queue_names();
    } catch (const std::exception& e) {
        errors.push_back(std::string("cannot list POSIX message queues: ") + e.what());
    }
    for (const std::string& name : names) {
        auto owner = grader_of_queue(name);
        if (!owner || alive(*owner)) continue;
        const std::string queue = "/" + name;
        if (::mq_unlink(queue.c_str()) == 0)
            removed.push_back("removed message queue " + queue + " (grader PID " +
                              std::to_string(*owner) + " is gone)");
        else if (errno != ENOENT)  // ENOENT: another cleanup was first
            errors.push_back("mq_unlink(" + queue + "): " + std::strerror(errno));
    }
    return removed;
}

// /proc/sysvipc/shm lists our IPC namespace's segments, a header line first:
// key shmid perms size cpid lpid nattch ...
std::vector<std::string> remove_dead_graders_segments(std::vector<std::string>& errors) {
    std::vector<std::string> removed;
    std::ifstream table("/proc/sysvipc/shm");  // missing: no System V IPC at all
    std::string line;
    std::getline(table, line);
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        long long key = 0;
        int id = -1;
        std::string perms, size;
        pid_t creator = 0, last = 0;
        unsigned long attached = 0;
        if (!(fields >> key >> id >> perms >> size >> creator >> last >> attached)) continue;
        auto owner = grader_of_key(key);
        // Its maker must be the grader its key names: a stranger's segment
        // with a key in our range stays, and so does one still attached.
        if (!owner || creator != *owner || attached != 0 || alive(*owner)) continue;
        std::ostringstream hex;
        hex << std::hex << std::showbase << key;
        if (::shmctl(id, IPC_RMID, nullptr) == 0)
            removed.push_back("removed shm segment key " + hex.str() + " (grader PID " +
                              std::to_string(*owner) + " is gone)");
        else if (errno != EINVAL && errno != EIDRM)  // gone meanwhile
            errors.push_back("shmctl(" + std::to_string(id) +
                             ", IPC_RMID): " + std::strerror(errno));
    }
    return removed;
}

// The containers' cgroups and the grading sandbox's, each named NAME-PID.
std::vector<std::string> cgroup_parents() {
    return {std::string(nslab::cgroupfs::parent_name), sandbox_cgroup_parent};
}

}  // namespace

// Not while either is making a cgroup below one (cgroupfs::CreationLock:
// before it, one back-to-back cleanup in 443 removed nslab/ between a
// runtime's mkdir of it and of its own cgroup).
std::vector<std::string> remove_empty_cgroup_parents() {
    return nslab::cgroupfs::remove_empty_parents(cgroup_parents());
}

int cleanup(const std::vector<std::string>& args) {
    if (!args.empty()) {
        std::cerr << "nslab cleanup: takes no arguments\n";
        return 2;
    }
    if (::geteuid() != 0) {
        std::cerr << "nslab cleanup: needs root (sudo ./nslab cleanup)\n";
        return 2;
    }
    std::vector<std::string> removed, errors;
    // Lab 12's first: a stopped or unfinished container's cgroup goes with
    // it, and its parent can go below.
    auto oci = nslab::oci_leftovers::cleanup_stale(nslab::oci_state::default_root, &errors);
    for (auto& line : oci.removed) removed.push_back(std::move(line));
    for (auto& line : nslab::net::cleanup_stale()) removed.push_back(std::move(line));
    for (auto& path : nslab::cgroupfs::cleanup_stale(cgroup_parents(), &errors))
        removed.push_back("removed cgroup " + path);
    for (auto& path : nslab::cgroupfs::cleanup_hand_overs())
        removed.push_back("removed the hand-over record of a gone cgroup " + path);
    for (auto& dir : remove_empty_cgroup_parents())
        removed.push_back("removed empty cgroup parent " + dir);
    for (auto& path : nslab::image_store::cleanup_stale(&errors))
        removed.push_back("removed container directory " + path);
    for (auto& path : nslab::oci::cleanup_stale(&errors))
        removed.push_back("removed a half-unpacked image directory " + path);
    for (auto& path : image_cleanup_stale(&errors))
        removed.push_back("removed an interrupted image build's directory " + path);
    for (auto& line : remove_dead_graders_queues(errors)) removed.push_back(std::move(line));
    for (auto& line : remove_dead_graders_segments(errors)) removed.push_back(std::move(line));
    for (const auto& line : removed) std::cout << line << "\n";
    for (const auto& line : oci.kept) std::cout << line << "\n";
    for (const auto& line : errors) std::cerr << "nslab cleanup: " << line << "\n";
    if (removed.empty() && errors.empty()) std::cout << "nothing to clean up\n";
    return errors.empty() ? 0 : 1;
}

}  // namespace tool

#include "nslab/cgroupfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

#include "nslab/errors.hpp"
#include "nslab/kernel.hpp"
#include "nslab/net_host.hpp"  // start_time_of: is a cgroup's owner still running
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace nslab::cgroupfs {

namespace {

// The v1 hierarchies nslab makes a container's cgroup in. freezer is there
// to stop a fork loop while its processes are killed (v1 has no cgroup.kill);
// devices for lab 11's device rules (limit_devices).
constexpr std::string_view v1_controllers[] = {"memory",  "pids",    "cpu",
                                               "cpuacct", "freezer", "devices"};

std::optional<long> fs_type(const std::string& path) {
    if (!sys::exists(path)) return std::nullopt;
    return static_cast<long>(sys::statfs(path).f_type);
}

// flock(2) on /sys/fs/cgroup itself (sys has no wrapper: net_host's lock is
// a file of its own); false when LOCK_NB finds it taken. No directory: no lock.
bool lock_root(Fd& root, int operation) {
    const std::string dir(mount_point);
    if (!sys::exists(dir)) return true;
    root = sys::open(dir, O_RDONLY | O_DIRECTORY);
    while (::flock(root.get(), operation) == -1) {
        if (errno == EWOULDBLOCK && (operation & LOCK_NB)) return false;
        if (errno != EINTR) sys::fail("flock(" + dir + ")");
    }
    return true;
}

// Each limit into the directory of its controller; an optional one whose
// file the kernel lacks is skipped.
void write_limits(const Host& host, const std::string& path,
                  const std::vector<LimitWrite>& limits) {
    for (const LimitWrite& w : limits) {
        const std::string file = host.directory(w.controller, path) + "/" + w.file;
        if (w.optional && !sys::exists(file)) continue;
        sys::write_file(file, w.value);
    }
}

// An all-zero bpf_attr: the kernel refuses (EINVAL) any byte set past the
// command's last field, and `bpf_attr attr{}` zeroes only a union's first
// member.
bpf_attr zeroed_attr() {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    return attr;
}

// bpf(2) has no C library wrapper.
int bpf(int command, bpf_attr& attr, const std::string& what) {
    return sys::check(static_cast<int>(::syscall(SYS_bpf, command, &attr, sizeof attr)), what);
}

std::string text_of(const std::string& path) {
    return sys::read_value(path);
}

}  // namespace

const Host& host() {
    static const Host detected = [] {
        const std::string root(mount_point);
        auto root_type = fs_type(root);
        if (!root_type) throw std::runtime_error("no cgroup file system: " + root + " is missing");
        Host h;
        h.mode = decide_mode(*root_type, fs_type(root + "/unified"));
        if (h.mode == Mode::unified) {
            for (const auto& c : split(text_of(root + "/cgroup.controllers"), ' '))
                if (!c.empty()) h.controllers.insert(c);
            return h;
        }
        for (std::string_view c : v1_controllers) {
            std::string dir = root + "/" + std::string(c);
            if (fs_type(dir) != CGROUP_SUPER_MAGIC) continue;
            // cpu and cpuacct are often one hierarchy, "cpu,cpuacct", with
            // two symlinks to it.
            h.v1_dirs[std::string(c)] = std::filesystem::canonical(dir).string();
            h.controllers.insert(std::string(c));
        }
        return h;
    }();
    return detected;
}

CreationLock::CreationLock() {
    // Blocks only while remove_empty_parents() holds it: a few rmdirs.
    lock_root(root_, LOCK_SH);
}

std::vector<std::string> make(const Host& host, const std::string& path,
                              const std::vector<std::string>& controllers, Existing existing,
                              const std::vector<LimitWrite>& limits) {
    std::vector<std::string> made;
    ScopeGuard undo([&] {
        for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
    });
    auto make_own = [&](const std::string& dir) {
        if (existing == Existing::reuse) return sys::mkdir(dir, 0755);
        if (sys::exists(dir)) throw std::runtime_error("cgroup " + dir + " exists already");
        sys::mkdir_new(dir, 0755);
    };
    if (host.mode == Mode::unified) {
        // A v2 controller works in a cgroup only if every ancestor lists it
        // in cgroup.subtree_control; such an ancestor may hold no process.
        const std::string line = subtree_control_line(controllers);
        for (const std::string& dir : ancestors(std::string(mount_point), path)) {
            sys::mkdir(dir, 0755);
            if (!line.empty()) sys::write_file(dir + "/cgroup.subtree_control", line);
        }
        make_own(v2_directory(path));
        made.push_back(v2_directory(path));
    } else {
        // No subtree_control in v1: every controller of a hierarchy applies
        // to every cgroup in it.
        for (const std::string& hierarchy : host.hierarchies_of(controllers)) {
            const std::string dir = hierarchy + path;
            sys::mkdir_p(std::filesystem::path(dir).parent_path().string(), 0755);
            make_own(dir);
            made.push_back(dir);
        }
    }
    write_limits(host, path, limits);
    undo.dismiss();
    return made;
}

void limit_devices(const Host& host, const std::string& path, const Config& cfg) {
    // Rootless (or run in another user namespace) no cgroup is ours to
    // limit, and none is needed: mknod(2) of a device needs CAP_MKNOD in the
    // host's user namespace too, so no node can be made there.
    if (path.empty() || !kernel::in_initial_user_namespace()) {
        if (cfg.verbose)
            std::fprintf(stderr,
                         "%s: rootless: no device cgroup, and no device node can be made "
                         "(CAP_MKNOD is the host's)\n",
                         cfg.program.c_str());
        return;
    }
    const std::vector<DeviceRule>& rules = default_devices();
    if (host.mode != Mode::unified) {
        if (host.directory("devices", path).empty())
            throw std::runtime_error(
                "lab 11 limits the container's devices with the cgroup v1 devices controller, "
                "which this host has not mounted under /sys/fs/cgroup");
        return write_limits(host, path, v1_device_limits(rules));
    }
    // v2: the program, checked by the kernel's verifier when loaded
    // (bpf(2) BPF_PROG_LOAD), then attached to the cgroup, which holds it
    // from then on (our fd may close); rmdir of the cgroup lets it go.
    // BPF_F_ALLOW_MULTI: a program an ancestor has still runs too, and
    // both must allow.
    const std::vector<bpf_insn> program = device_program(rules);
    bpf_attr load = zeroed_attr();
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = reinterpret_cast<std::uint64_t>(program.data());
    load.insn_cnt = static_cast<std::uint32_t>(program.size());
    load.license = reinterpret_cast<std::uint64_t>("GPL");
    int fd = static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load));
    if (fd < 0) {
        // Refused: load it again with the verifier's log, whose last line says why.
        const int error = errno;
        std::string log(1 << 16, '\0');
        load.log_level = 1;
        load.log_buf = reinterpret_cast<std::uint64_t>(log.data());
        load.log_size = static_cast<std::uint32_t>(log.size());
        ::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
        log.resize(std::strlen(log.c_str()));
        while (!log.empty() && log.back() == '\n') log.pop_back();
        const std::string why = log.substr(log.find_last_of('\n') + 1);
        sys::fail("bpf(BPF_PROG_LOAD, the device program" + (why.empty() ? "" : ": " + why) + ")",
                  error);
    }
    Fd loaded(fd);
    Fd cgroup = sys::open(v2_directory(path), O_RDONLY | O_DIRECTORY);
    bpf_attr attach = zeroed_attr();
    attach.target_fd = static_cast<std::uint32_t>(cgroup.get());
    attach.attach_bpf_fd = static_cast<std::uint32_t>(loaded.get());
    attach.attach_type = BPF_CGROUP_DEVICE;
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    bpf(BPF_PROG_ATTACH, attach, "bpf(BPF_PROG_ATTACH, " + v2_directory(path) + ")");
}

std::vector<pid_t> procs(const std::string& dir) {
    return procfs::parse_pid_list(sys::read_file(dir + "/cgroup.procs"));
}

void kill_all(const std::string& dir, const std::string& freezer_dir) {
    if (!sys::exists(dir)) return;
    if (sys::exists(dir + "/cgroup.kill")) {
        sys::write_file(dir + "/cgroup.kill", "1");
        return;
    }
    // Usually the command has ended and nothing is left: done (freezing
    // and thawing five v1 hierarchies costs about a millisecond). Nothing
    // can fork into an empty cgroup.
    if (procs(dir).empty()) return;
    // Without cgroup.kill a process could fork between our reading
    // cgroup.procs and killing it: freeze the cgroup first. SIGKILL still
    // ends a frozen process, once it is thawed.
    std::string freeze_file, frozen, thawed;
    if (sys::exists(dir + "/cgroup.freeze")) {
        freeze_file = dir + "/cgroup.freeze", frozen = "1", thawed = "0";
    } else if (!freezer_dir.empty() && sys::exists(freezer_dir + "/freezer.state")) {
        freeze_file = freezer_dir + "/freezer.state", frozen = "FROZEN", thawed = "THAWED";
    }
    if (!freeze_file.empty()) sys::write_file(freeze_file, frozen);
    for (pid_t pid : procs(dir)) ::kill(pid, SIGKILL);  // ESRCH: gone already
    if (!freeze_file.empty()) sys::write_file(freeze_file, thawed);
}

void rmdir_with_retries(const std::string& dir) {
    // The last task leaves the cgroup only once it is fully gone, a moment
    // after waitpid(2) returns for it (or after SIGKILL is delivered): rmdir
    // says EBUSY until then. Up to about 3 s in all.
    auto pause = std::chrono::milliseconds(1);
    for (int attempt = 0;; ++attempt) {
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
        if (errno != EBUSY || attempt == 60) sys::fail("rmdir(" + dir + ")");
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(64));
    }
}

void kill(const Host& host, const std::string& path) {
    // v1: the freezer cgroup of the same path (v2 freezes in place).
    const std::string freezer = host.directory("freezer", path);
    for (const std::string& hierarchy : host.hierarchies()) kill_all(hierarchy + path, freezer);
}

std::size_t signal_all(const std::string& path, int signal) {
    std::set<pid_t> sent;
    for (const std::string& hierarchy : host().hierarchies()) {
        if (!sys::exists(hierarchy + path + "/cgroup.procs")) continue;
        for (pid_t pid : procs(hierarchy + path))
            if (!sent.count(pid) && ::kill(pid, signal) == 0) sent.insert(pid);  // ESRCH: gone
    }
    return sent.size();
}

void remove(const Host& host, const std::string& path) {
    kill(host, path);
    for (const std::string& hierarchy : host.hierarchies()) rmdir_with_retries(hierarchy + path);
}

namespace {

// "/nslab/ID-PID" -> hand_over_dir/"nslab:ID-PID".
std::string hand_over_record(const std::string& path) {
    std::string name = path.substr(path.find_first_not_of('/'));
    std::replace(name.begin(), name.end(), '/', ':');
    return std::string(hand_over_dir) + "/" + name;
}

// Whether the cgroup at `path` was handed over to a process that still runs.
bool handed_over_to_live_process(const std::string& path) {
    try {
        return net::owner_alive(sys::read_file(hand_over_record(path)));
    } catch (const std::system_error&) {
        return false;
    }
}

}  // namespace

void hand_over(const std::string& path, pid_t pid) {
    if (!net::start_time_of(pid))
        throw std::runtime_error("cannot hand cgroup " + path + " over to PID " +
                                 std::to_string(pid) + ": it is not running");
    std::filesystem::create_directories(hand_over_dir);
    const std::string file = hand_over_record(path), text = net::owner_record(pid);
    const std::string temporary = file + ".new";
    {
        Fd out = sys::open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        sys::check(::write(out.get(), text.data(), text.size()), "write(" + temporary + ")");
    }
    sys::check(::rename(temporary.c_str(), file.c_str()), "rename(" + temporary + ")");
}

void release_hand_over(const std::string& path) {
    ::unlink(hand_over_record(path).c_str());
}

std::vector<std::string> cleanup_stale(const std::vector<std::string>& parents,
                                       std::vector<std::string>* errors) {
    std::vector<std::string> removed;
    const Host& h = host();
    for (const std::string& name : parents)
        for (const std::string& hierarchy : h.hierarchies()) {
            const std::string parent = hierarchy + "/" + name;
            std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(parent.c_str()), ::closedir);
            if (!dir) continue;
            while (dirent* entry = ::readdir(dir.get())) {
                if (entry->d_type != DT_DIR || entry->d_name[0] == '.') continue;
                // An owner that still runs keeps its cgroup; a zombie owner
                // has ended, only its parent has not reaped it yet.
                auto owner = owner_of(entry->d_name);
                if (!owner || net::start_time_of(*owner)) continue;
                const std::string relative = "/" + name + "/" + entry->d_name;
                if (handed_over_to_live_process(relative)) continue;
                const std::string path = parent + "/" + entry->d_name;
                try {
                    kill_all(path, h.directory("freezer", relative));
                    rmdir_with_retries(path);
                    release_hand_over(relative);
                    removed.push_back(path);
                } catch (const std::exception& e) {
                    // Gone meanwhile: another cleanup (a grader's, say) was first.
                    if (errors && sys::exists(path)) errors->push_back(e.what());
                }
            }
        }
    return removed;
}

std::vector<std::string> cleanup_stale(std::vector<std::string>* errors) {
    return cleanup_stale({std::string(parent_name)}, errors);
}

std::vector<std::string> cleanup_hand_overs() {
    // A record outlives its cgroup when its remover was killed between
    // the rmdir and the unlink, and a ".new" one when hand_over() was:
    // once no hierarchy has the cgroup and its process is gone, it is no
    // one's.
    std::vector<std::string> removed;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(hand_over_dir), ::closedir);
    if (!dir) return removed;
    const Host& h = host();
    while (dirent* entry = ::readdir(dir.get())) {
        std::string name = entry->d_name;
        if (entry->d_type != DT_REG) continue;
        const std::string file = std::string(hand_over_dir) + "/" + name;
        if (name.ends_with(".new")) name.resize(name.size() - 4);
        std::string relative = "/" + name;
        std::replace(relative.begin(), relative.end(), ':', '/');
        bool cgroup_left = false;
        for (const std::string& hierarchy : h.hierarchies())
            cgroup_left = cgroup_left || sys::exists(hierarchy + relative);
        if (cgroup_left || handed_over_to_live_process(relative)) continue;
        if (::unlink(file.c_str()) == 0) removed.push_back(file);
    }
    return removed;
}

std::vector<std::string> remove_empty_parents(const std::vector<std::string>& names) {
    // Someone is making a cgroup (CreationLock): its parent may be empty
    // only for the moment before its own mkdir. Leave them all to the next
    // cleanup rather than wait.
    Fd root;
    if (!lock_root(root, LOCK_EX | LOCK_NB)) return {};
    std::vector<std::string> removed;
    for (const std::string& name : names)
        for (const std::string& pattern :
             {std::string(mount_point) + "/" + name, std::string(mount_point) + "/*/" + name}) {
            glob_t found{};
            if (::glob(pattern.c_str(), GLOB_ONLYDIR, nullptr, &found) == 0)
                for (size_t i = 0; i < found.gl_pathc; ++i)
                    if (::rmdir(found.gl_pathv[i]) == 0) removed.emplace_back(found.gl_pathv[i]);
            ::globfree(&found);
        }
    return removed;
}

}  // namespace nslab::cgroupfs

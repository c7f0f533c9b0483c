// The orchestrator. It reads top to bottom in the order the kernel needs,
// one step a line: each step names itself (its --timings mark), says which
// layer it belongs to, and runs only when the lab has that layer. The layers
// never ask themselves whether they are on. The order is not the labs'
// order: the time namespace must exist before the child, the user
// namespace's maps before the child may use its ids, the cgroup before the
// child may fork.
#include "nslab/container.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

#include "nslab/cgroup_v1.hpp"
#include "nslab/cgroupfs.hpp"
#include "nslab/command.hpp"
#include "nslab/console.hpp"
#include "nslab/errors.hpp"
#include "nslab/exec_plan.hpp"
#include "nslab/idmap.hpp"
#include "nslab/image_store.hpp"
#include "nslab/kernel.hpp"
#include "nslab/layers/cgroup.hpp"
#include "nslab/layers/confine.hpp"
#include "nslab/layers/exec.hpp"
#include "nslab/layers/image.hpp"
#include "nslab/layers/ipc.hpp"
#include "nslab/layers/mount.hpp"
#include "nslab/layers/net.hpp"
#include "nslab/layers/oci.hpp"
#include "nslab/layers/pid.hpp"
#include "nslab/layers/time.hpp"
#include "nslab/layers/user.hpp"
#include "nslab/layers/uts.hpp"
#include "nslab/mount_plan.hpp"
#include "nslab/oci_image.hpp"
#include "nslab/signals.hpp"
#include "nslab/sync_pipe.hpp"
#include "nslab/sys.hpp"
#include "nslab/time_plan.hpp"
#include "nslab/timings.hpp"

namespace nslab {

namespace {

// One step of the set-up: runs `phase` when it is on in this lab (the lab has
// `layer`, or `on` says so), and closes its --timings mark either way (a
// step that did not run is not shown; its microseconds go to the next).
class Steps {
  public:
    Steps(const Config& cfg, Timings& timings) : cfg_(cfg), timings_(timings) {}

    template <typename Phase>
    void operator()(std::string what, bool on, Phase&& phase) {
        if (on) phase();
        timings_.mark(std::move(what), on);
    }
    template <typename Phase>
    void operator()(std::string what, Layer layer, Phase&& phase) {
        (*this)(std::move(what), cfg_.has(layer), std::forward<Phase>(phase));
    }

  private:
    const Config& cfg_;
    Timings& timings_;
};

// The namespaces the child is cloned into, besides PID (pid::clone_child's).
unsigned long namespace_flags(const Config& cfg) {
    unsigned long flags = 0;
    if (cfg.makes_userns()) flags |= user::clone_flags();
    if (cfg.has(Layer::mount)) flags |= mount::clone_flags();
    if (cfg.has(Layer::uts)) flags |= uts::clone_flags();
    if (cfg.has(Layer::net)) flags |= net::clone_flags();
    if (cfg.has(Layer::ipc)) flags |= ipc::clone_flags();
    for (const JoinedNamespace& ns : cfg.joined)
        flags &= ~static_cast<unsigned long>(ns.type);  // lab 12: joined, not made
    return flags;
}

// The sync pipe closes at the exec, which is how the parent learns that the
// exec worked; a failure travels back over it.
[[noreturn]] void exec_command(const Config& cfg, SyncPipe& sync, const sigset_t& original_mask) {
    command::ExecFailure failed = command::exec_in_place(cfg.command, original_mask);
    sync.report_exec_failed(failed.error, failed.what);
    ::_exit(exit_status_for_exec_error(failed.error));
}

// With --init this process (PID 1) forks the command (PID 2) and becomes the
// init; the forwarded signals are still blocked from the runtime, so the
// init loop can take them with sigwaitinfo(2).
int run_command(const Config& cfg, SyncPipe& sync, const sigset_t& original_mask) {
    if (!cfg.init) exec_command(cfg, sync, original_mask);
    pid_t command = sys::fork();
    if (command == 0) exec_command(cfg, sync, original_mask);
    sync.close_child_side();  // the command holds the pipe until its exec
    sys::close_range_from(3);
    return pid::init_loop(cfg, command);
}

// With --userns the time namespace must be the container's: the child
// makes it inside its own user namespace (a rootless runtime has no
// CAP_SYS_TIME in the host's), then enters it, because it may exec the
// command itself and --init's PID 1 never execs.
void time_inside(const Config& cfg) {
    // Becoming root of the user namespace (setresuid) made us non-dumpable,
    // and the /proc/self files of a non-dumpable process belong to the host's
    // root, not to us: timens_offsets would refuse our write.
    sys::prctl(PR_SET_DUMPABLE, 1);
    time::new_namespace_with_offsets(cfg);
    time::enter_new_namespace();
}

// Lab 10: the overlay of the image's layers, mounted where it cannot
// propagate to the host (every mount private first: lab 02's step 2 again,
// since the overlay must exist before the mount layer pivots to it). Returns
// the Config the mount layer then takes: its rootfs is the overlay, and
// that root stays writable, since its writes go to the container's own
// upper directory and no layer is ever written.
Config root_of_image(const Config& cfg, const image_store::Overlay& overlay) {
    sys::mount("", "/", "", MS_REC | MS_PRIVATE);
    try {
        image::mount_root(cfg, overlay);
    } catch (const std::system_error& e) {
        // Before 5.11 overlayfs may be mounted only in the host's user
        // namespace, and knows no userxattr: say so rather than EPERM.
        const std::string release = kernel::release();
        if (!cfg.makes_userns() || kernel::at_least(release, 5, 11)) throw;
        throw std::runtime_error(
            "overlayfs in a user namespace (--userns, or rootless) needs "
            "Linux 5.11 or later, and this kernel is " +
            release + ": run as root without --userns (" + e.what() + ")");
    }
    Config on_overlay = cfg;
    on_overlay.rootfs = overlay.merged;
    on_overlay.rootfs_writable = true;
    return on_overlay;
}

// Lab 10 with --image: the image's layers (unpacked into the store the
// first time) below the --layer directories, and what its config sets.
// Entrypoint and Cmd say what runs when no command is given. The image is a
// path, or the name of one `nslab image build` made (oci::resolve_image).
Config with_image(const Config& given) {
    Config cfg = given;
    const oci::Image image = oci::load(oci::resolve_image(given.image), image::make_whiteout);
    cfg.rootfs = image.layers.front();
    cfg.layers.assign(image.layers.begin() + 1, image.layers.end());
    cfg.layers.insert(cfg.layers.end(), given.layers.begin(), given.layers.end());
    cfg.command = oci::command_of(image.settings, given.command);
    if (cfg.command.empty())
        throw std::runtime_error("--image " + given.image +
                                 ": its config has no Entrypoint or Cmd; give a command after --");
    cfg.env = image.settings.env;
    cfg.working_dir = image.settings.working_dir;
    cfg.user = image.settings.user;
    if (cfg.verbose)
        std::fprintf(stderr, "%s: --image %s: %zu layers, %d unpacked now (%lld ms)\n",
                     cfg.program.c_str(), given.image.c_str(), image.layers.size(),
                     image.layers_unpacked, image.unpacked_ms);
    return cfg;
}

// In the container's root: the image config's Env and WorkingDir (made if
// the image lacks it, as docker does).
void apply_image_environment(const Config& cfg) {
    for (const std::string& entry : cfg.env) {
        const size_t equals = entry.find('=');
        if (equals == 0 || equals == std::string::npos) continue;
        sys::check(::setenv(entry.substr(0, equals).c_str(), entry.c_str() + equals + 1, 1),
                   "setenv(" + entry.substr(0, equals) + ")");
    }
    if (!cfg.working_dir.empty()) {
        sys::mkdir_p(cfg.working_dir, 0755);
        sys::chdir(cfg.working_dir);
    }
}

// Lab 12: linux.namespaces[].path, each joined by the fd the runtime
// opened and checked (setns(2)); the clone made none of these types.
void join_namespaces(const Config& cfg) {
    for (const JoinedNamespace& ns : cfg.joined) {
        sys::setns(ns.fd, ns.type);
        ::close(ns.fd);
    }
}

// Lab 12: process.terminal, in the container's own /dev/pts; the socket
// to the engine is closed once the pty's master has gone over it.
void attach_console(const Config& cfg) {
    console::attach_new_pty(cfg.console_socket, cfg.console_size);
    ::close(cfg.console_socket);
}

// ...and for the container's first process, that pty is also its
// /dev/console, as runc makes it: a bind of the replica (now our fd 0) onto
// an empty file in the container's own /dev. A joined process (exec -t)
// gets a pty, and the console stays the first one's.
void bind_console_device() {
    Fd target(sys::check(::open("/dev/console", O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600),
                         "open(/dev/console)"));
    sys::mount("/proc/self/fd/0", "/dev/console", "", MS_BIND);
}

// Lab 12: the bundle's process.rlimits, while the capabilities may still
// raise a hard limit (CAP_SYS_RESOURCE); a refusal is one line, as runc's.
void set_rlimits(const Config& cfg) {
    for (const Rlimit& limit : cfg.rlimits) {
        const struct rlimit value = {static_cast<rlim_t>(limit.soft),
                                     static_cast<rlim_t>(limit.hard)};
        if (::setrlimit(static_cast<__rlimit_resource_t>(limit.resource), &value) != 0)
            sys::fail("setrlimit(" + limit.name + ", " + std::to_string(limit.soft) + ":" +
                      std::to_string(limit.hard) + ")");
    }
}

// Lab 12: the bundle's linux.sysctl, in the container's own /proc/sys:
// a net.* file there is its network namespace's, an IPC one its IPC
// namespace's (the reader refused every other), before lab 11 makes
// /proc/sys read-only.
void set_sysctls(const Config& cfg) {
    for (const Sysctl& setting : cfg.sysctls) {
        std::string path = "/proc/sys/" + setting.name;
        std::replace(path.begin(), path.end(), '.', '/');
        sys::write_file(path, setting.value);
    }
}

// Lab 12: process.oomScoreAdj. Lowering it needs CAP_SYS_RESOURCE, which
// an engine often lacks (and asks for the value it has): write only a change.
void set_oom_score_adj(const Config& cfg) {
    const std::string wanted = std::to_string(*cfg.oom_score_adj);
    if (sys::read_value("/proc/self/oom_score_adj") != wanted)
        sys::write_file("/proc/self/oom_score_adj", wanted);
}

// The image config's User (a name looked up in the image's /etc/passwd and
// /etc/group): lab 11 calls it between its capability drops.
void become_image_user(const Config& cfg) {
    if (cfg.user.empty()) return;
    auto text_of = [](const char* path) {
        try {
            return sys::read_file(path);
        } catch (const std::system_error&) {
            return std::string();
        }
    };
    const auto [uid, gid] =
        oci::resolve_user(cfg.user, text_of("/etc/passwd"), text_of("/etc/group"));
    // No supplementary groups (a rootless user namespace may deny setgroups),
    // unless a bundle asks for some (lab 12's additionalGids): then they must be set.
    if (!cfg.additional_gids.empty())
        sys::setgroups(cfg.additional_gids);
    else if (::setgroups(0, nullptr) != 0 && errno != EPERM)
        sys::fail("setgroups(0)");
    sys::setresgid(gid, gid, gid);
    sys::setresuid(uid, uid, uid);
    sys::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a new euid cleared it (prctl(2))
}

// Lab 11, the last of the set-up: the container's capability set and its
// seccomp filter (built here, before anything is dropped: the student's
// clone rule joins the given table; a --seccomp profile replaces both),
// then the drops in the layer's order, the image's User among them.
void confine_before_exec(const Config& cfg) {
    const std::vector<caps::Cap> set = caps::container_set(cfg);
    std::optional<confine_plan::Filter> filter;
    if (!cfg.seccomp_profile.empty()) {
        filter.emplace(confine_plan::parse_profile(cfg.seccomp_profile,
                                                   cfg.seccomp_profile_text));  // it alone
    } else if (cfg.seccomp) {
        filter.emplace(set);
        confine::add_clone_rule(*filter, set);
    }
    confine::drop_privileges(cfg, set, filter ? &*filter : nullptr,
                             [&] { become_image_user(cfg); });
}

// The process's own settings, --image's config or a bundle's: the first
// process's (child_main) and a joined one's (lab 12's exec) alike.
void process_steps(const Config& cfg, Steps& step) {
    step("image: Env, WorkingDir", !cfg.env.empty() || !cfg.working_dir.empty(),
         [&] { apply_image_environment(cfg); });
    step("oci: rlimits", !cfg.rlimits.empty(), [&] { set_rlimits(cfg); });
    step("oci: oom_score_adj", cfg.oom_score_adj.has_value(), [&] { set_oom_score_adj(cfg); });
    step("oci: umask", cfg.umask.has_value(), [&] { ::umask(*cfg.umask); });
}

// The container's first process. Nothing throws out of it: a failure is
// reported to the parent over the sync pipe and the child exits 125.
int child_main(const Config& cfg, cgroup::State& cgroup, const net::State& net,
               const image_store::Overlay& overlay, SyncPipe& sync,
               const sigset_t& original_mask) noexcept {
    try {
        sync.become_child();
        sys::prctl(PR_SET_PDEATHSIG, SIGKILL);  // die with the runtime, even by SIGKILL
        sync.wait_parent();                     // maps written, veth here
        Timings timings(cfg.timings);           // --timings: ours travel with "ready"
        Steps step(cfg, timings);
        step("cgroup: join (v1)", cfg.has(Layer::cgroup) && !cgroup.v1_tasks.empty(),
             [&] { cgroupfs::v1::join(cgroup.v1_tasks); });  // in, before we can fork or exec
        step("user: become root", cfg.makes_userns(), [&] {
            user::in_child();
            sys::prctl(PR_SET_PDEATHSIG, SIGKILL);  // again: a new euid cleared it (prctl(2))
        });
        step("oci: join the config's namespaces", !cfg.joined.empty(),
             [&] { join_namespaces(cfg); });  // network, uts, ipc by path: before we use them
        step("time namespace (inside)", cfg.has(Layer::time) && time_plan::made_by_child(cfg),
             [&] { time_inside(cfg); });  // with --userns: a time namespace it owns, entered
        step("net: lo, eth0 address, route", cfg.has(Layer::net) && !cfg.joins(CLONE_NEWNET),
             [&] { net::in_child(cfg, net); });  // a joined one is left as it is
        std::vector<Fd> binds;  // lab 12: a bundle's binds, reachable after pivot_root only so
        step("oci: open the bundle's binds", !cfg.mounts.empty(),
             [&] { binds = mount_plan::open_extra_mounts(cfg); });
        net::NameFiles names;  // reachable after pivot_root only through these
        step("net: open /etc/hosts, resolv.conf", !net.files_dir.empty(),
             [&] { names = net::open_name_files(net); });
        step("uts: hostname", Layer::uts, [&] { uts::in_child(cfg); });
        Config root = cfg;  // lab 10: the mount layer's rootfs is the image's overlay
        step("image: overlay root", Layer::image, [&] { root = root_of_image(cfg, overlay); });
        step("mount: pivot_root and mounts", Layer::mount, [&] {
            mount::in_child(root);  // private /, pivot_root, /proc /dev /sys /tmp
            if (!cfg.mounts.empty()) mount_plan::attach_extra_mounts(cfg, binds);  // lab 12
            mount_plan::lock_down(root);  // / read-only, nosuid, nodev; /proc is procfs
            if (!net.files_dir.empty()) net::bind_name_files(names);  // over the rootfs's own
        });
        step("cgroup: namespace, cgroupfs", Layer::cgroup, [&] { cgroup::in_child(); });
        step("ipc: mqueue", Layer::ipc, [&] { ipc::in_child(); });
        step("oci: console (a new pty)", cfg.terminal, [&] {
            attach_console(cfg);  // after pivot_root: the container's /dev/pts
            bind_console_device();
        });
        step("oci: sysctl", !cfg.sysctls.empty(), [&] { set_sysctls(cfg); });
        process_steps(cfg, step);  // env, cwd, rlimits, oom score, umask
        step("confine: masked and read-only paths", Layer::confine,
             [&] { confine::mask_paths(cfg); });  // while we may still mount
        step("image: User", cfg.has(Layer::image) && !cfg.has(Layer::confine),
             [&] { become_image_user(cfg); });  // lab 11 changes it between its drops
        step("confine: capabilities, no_new_privs, seccomp", Layer::confine,
             [&] { confine_before_exec(cfg); });       // the last: nothing privileged after it
        const bool created = cfg.exec_fifo >= 0;       // lab 12's create: the runtime leaves now
        if (created) sys::prctl(PR_SET_PDEATHSIG, 0);  // so we outlive it
        sync.report_ready(timings.encoded());          // set up: the parent writes the pid file
        if (created)
            oci::wait_for_start(cfg.exec_fifo);  // ...and `start`, later, lets us go
        else
            sync.wait_parent();  // ...and lets us go
        return run_command(cfg, sync, original_mask);
    } catch (const std::exception& e) {
        const auto* system_error = dynamic_cast<const std::system_error*>(&e);
        sync.report_error(system_error ? system_error->code().value() : 0, e.what());
    } catch (...) {
        sync.report_error(0, "unknown error in the container's set-up");
    }
    return exit_status::runtime_failed;
}

// --pid-file: the container's host PID, written once it is set up. The path
// is often in a directory others may write (/tmp), so the runtime never
// follows a symlink there, never truncates a file it did not write, and at
// exit removes only the file it made (another may have replaced it since).
class PidFile {
  public:
    PidFile() = default;
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;
    ~PidFile() { remove(); }

    void write(const std::string& path, pid_t pid) {
        if (path.empty()) return;
        Fd fd = create(path);
        ScopeGuard unlink_it([&] { ::unlink(path.c_str()); });
        std::string text = std::to_string(pid) + "\n";
        sys::check(::write(fd.get(), text.data(), text.size()), "write(--pid-file " + path + ")");
        sys::check(::fstat(fd.get(), &written_), "fstat(--pid-file " + path + ")");
        unlink_it.dismiss();
        path_ = path;
    }

    // Leaves the file for whoever reads it after we exit (lab 12's create).
    void keep() { path_.clear(); }

    // Unlinks the file if the name still leads to the one we wrote.
    void remove() {
        if (path_.empty()) return;
        struct stat now {};
        if (::lstat(path_.c_str(), &now) == 0 && now.st_dev == written_.st_dev &&
            now.st_ino == written_.st_ino)
            ::unlink(path_.c_str());
        path_.clear();
    }

  private:
    // O_EXCL|O_NOFOLLOW: a new regular file, never through a symlink. An
    // existing file is replaced only when it is a stale pid file (a number
    // whose process is gone, owned by us: a runtime that was SIGKILLed left it).
    static Fd create(const std::string& path) {
        const std::string option = "--pid-file " + path;
        constexpr int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
        int fd = ::open(path.c_str(), flags, 0644);
        if (fd == -1 && errno == EEXIST) {
            std::string why = why_not_stale(path);
            if (!why.empty()) throw std::runtime_error(option + ": " + why + "; refused");
            if (::unlink(path.c_str()) != 0 && errno != ENOENT) sys::fail("unlink(" + option + ")");
            fd = ::open(path.c_str(), flags, 0644);
        }
        return Fd(sys::check(fd, "open(" + option + ")"));
    }

    // "" when `path` is a pid file whose process is gone, else why not.
    static std::string why_not_stale(const std::string& path) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) return {};  // gone meanwhile: create it
        if (S_ISLNK(st.st_mode)) return "is a symbolic link";
        if (!S_ISREG(st.st_mode) || st.st_size > 16 || st.st_uid != ::geteuid())
            return "exists and is not a pid file this runtime wrote";
        Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        char text[17] = {};
        ssize_t n = fd ? ::read(fd.get(), text, 16) : -1;
        char* end = nullptr;
        long pid = n > 1 && text[n - 1] == '\n' ? std::strtol(text, &end, 10) : 0;
        if (pid <= 0 || end != text + n - 1)
            return "exists and is not a pid file this runtime wrote";
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)
            return "holds the PID of a running process (" + std::to_string(pid) + ")";
        return {};
    }

    std::string path_;
    struct stat written_ {};
};

}  // namespace

void set_up_joined_process(const Config& cfg) {
    Timings timings(false);
    Steps step(cfg, timings);
    step("oci: console (a new pty)", cfg.terminal, [&] { attach_console(cfg); });
    process_steps(cfg, step);  // env, cwd, rlimits, oom score, umask
    step("confine: capabilities, no_new_privs, seccomp", Layer::confine,
         [&] { confine_before_exec(cfg); });
    sys::prctl(PR_SET_PDEATHSIG, 0);  // lab 11's user change set it: outlive a runtime that left
}

int join_container(const Config& cfg) {
    const pid_t pid = exec_plan::target_pid(cfg);
    try {
        return exec::join_and_run(cfg, pid);
    } catch (const std::system_error& e) {
        exec_plan::rethrow_explained(e, pid);
    }
}

int run_container(const Config& given, Created* created) {
    Timings timings = Timings::since_program_start(given.timings);
    timings.mark("runtime start-up, command line");
    // Lab 10's --image: its layers, unpacked once into the store, become
    // the rootfs and the layers above it before anything checks them.
    const Config cfg = given.has(Layer::image) && !given.image.empty() ? with_image(given) : given;
    timings.mark("image: layers unpacked or found in the store", !given.image.empty());
    // Block the signals we forward (and SIGCHLD) before the child exists, so
    // none is lost; the child restores this mask before it execs.
    sigset_t original_mask;
    const sigset_t blocked = wait_loop_signals();
    ::sigprocmask(SIG_BLOCK, &blocked, &original_mask);

    Steps step(cfg, timings);
    step("checks: id maps, rootfs, offsets", true, [&] {
        idmap::check(cfg);  // rootless: refuse what needs root; check the id maps
        if (cfg.has(Layer::mount)) mount_plan::check_rootfs(cfg);  // pivot_root can use it
        if (cfg.has(Layer::time)) time_plan::check(cfg);  // offsets the kernel takes; timens here
    });
    step("checks: image layers", Layer::image,
         [&] { image_store::check(cfg); });  // --layer directories, --keep-changes
    step("time namespace", cfg.has(Layer::time) && !time_plan::made_by_child(cfg),
         [&] { time::new_namespace_with_offsets(cfg); });  // unshare(CLONE_NEWTIME), offsets
    cgroup::State cgroup;
    ScopeGuard remove_cgroup([&] {
        if (cfg.has(Layer::cgroup)) cgroup::after_exit(cfg, cgroup, 0);
    });
    step("cgroup create", Layer::cgroup, [&] {
        cgroupfs::CreationLock lock;  // `nslab cleanup` keeps the nslab/ parent meanwhile
        cgroup = cgroup::before_clone(cfg);
    });
    step("confine: devices (cgroup)", Layer::confine,
         [&] { confine::before_clone(cfg, cgroup.path); });  // v1 devices lists, v2 a BPF program

    net::State net;  // an address lease, so the child knows it
    ScopeGuard remove_veth([&] {
        if (cfg.has(Layer::net)) net::after_exit(net);
        net::remove_name_files(net);
    });
    step("address lease", Layer::net, [&] { net = net::before_clone(cfg); });
    step("nat: rules in table ip nslab", net::bridged(cfg), [&] {
        net::add_nat(cfg, net, net::nat_rules(cfg, net));
    });  // masquerade, --publish; refuses a taken port
    step("net: /etc/hosts, resolv.conf files", net::bridged(cfg) && cfg.has(Layer::mount),
         [&] { net::write_name_files(cfg, net); });  // in /run/nslab/files/<id>, not the rootfs

    // Lab 10: the container's directories are made once its id maps exist
    // (their owner is its root); the child knows their names already.
    const image_store::Overlay planned = image_store::plan(cfg);
    image_store::Overlay overlay;  // nothing to remove until made
    ScopeGuard remove_overlay([&] { image_store::after_exit(cfg, overlay); });

    SyncPipe sync;
    sys::CloneArgs args{.flags = namespace_flags(cfg)};
    if (cfg.has(Layer::cgroup)) cgroup::clone_into(cgroup, args);  // v2: born in its cgroup
    pid_t child = -1;
    try {
        child = pid::clone_child(
            cfg, args, [&] { return child_main(cfg, cgroup, net, planned, sync, original_mask); });
    } catch (const std::system_error& e) {
        idmap::rethrow_explained(cfg, e);  // name the sysctl that forbids user namespaces
    }
    sync.become_parent();
    // Until the child is reaped, a failure here must not leave it behind.
    ScopeGuard kill_child([&] {
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
    });
    timings.mark("clone");

    step("user namespace maps", cfg.makes_userns(),
         [&] { user::in_parent(cfg, child); });  // uid_map, setgroups, gid_map
    step("veth and bridge", Layer::net,
         [&] { net::in_parent(cfg, net, child); });  // bridge, veth pair, one end inside
    step("image: container directories", Layer::image,
         [&] { overlay = image_store::prepare(cfg); });  // upper, work, merged

    sync.let_child_go();  // the child sets itself up
    SyncPipe::Report report = sync.wait_child();
    timings.mark_nested("child", report.kind == SyncPipe::Report::Kind::ready ? report.what : "",
                        "child: wake-up, report over the pipe");
    PidFile pid_file;  // removed at exit, if it is still ours
    if (report.kind == SyncPipe::Report::Kind::ready && created) {
        // Lab 12's create: the container waits for `start`; what is left
        // to undo (the cgroup) is `delete`'s, and nothing of ours waits.
        pid_file.write(cfg.pid_file, child);
        *created = Created{child, cgroup.path};
        pid_file.keep();
        kill_child.dismiss();
        remove_cgroup.dismiss();
        remove_veth.dismiss();
        remove_overlay.dismiss();
        timings.total("until created");
        timings.print(cfg.program);
        return 0;
    }
    if (report.kind == SyncPipe::Report::Kind::ready) {
        pid_file.write(cfg.pid_file, child);  // once set up, before exec
        sync.let_child_go();                  // exec
        report = sync.wait_child();
    }
    timings.mark("exec");
    timings.total("until exec");

    int status = exit_status::runtime_failed;
    if (report.kind == SyncPipe::Report::Kind::exec_done) {
        status = exit_status_of(wait_forwarding_signals(child));
    } else {
        const bool set_up_failed = report.kind == SyncPipe::Report::Kind::error;
        std::fprintf(stderr, "%s: %s%s\n", cfg.program.c_str(), report.what.c_str(),
                     set_up_failed ? idmap::hint(cfg, report.error).c_str() : "");
        ::waitpid(child, nullptr, 0);
        if (report.kind == SyncPipe::Report::Kind::exec_failed)
            status = exit_status_for_exec_error(report.error);
    }
    kill_child.dismiss();
    timings.mark("command ran");
    timings.total("until the command exited");

    remove_veth.dismiss();
    step("teardown: veth, rules, lease, name files", Layer::net, [&] {
        net::after_exit(net);         // the host end of the veth, the rules, the lease
        net::remove_name_files(net);  // the container's /etc/hosts and resolv.conf
    });
    remove_cgroup.dismiss();
    step("teardown: cgroup", Layer::cgroup,
         [&] { status = cgroup::after_exit(cfg, cgroup, status); });  // report an OOM kill; rmdir
    remove_overlay.dismiss();
    step("teardown: image directories", Layer::image,
         [&] { image_store::after_exit(cfg, overlay); });  // --keep-changes; the upper directory
    pid_file.remove();
    timings.total("until exit");
    timings.print(cfg.program);
    return status;
}

}  // namespace nslab

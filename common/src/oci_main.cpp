// Lab 12's main: one run of the runtime per command, as an engine calls it
// (runtime.md "Operations"). Each command reads the container's state
// directory, ROOT/ID/: state.json (oci_state.hpp) and, until `start`, the
// exec FIFO the container waits on (layers/oci.hpp).
#include "nslab/oci_main.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "nslab/cgroupfs.hpp"
#include "nslab/cli.hpp"
#include "nslab/command.hpp"
#include "nslab/console.hpp"
#include "nslab/container.hpp"
#include "nslab/errors.hpp"
#include "nslab/layers/oci.hpp"
#include "nslab/oci_config.hpp"
#include "nslab/oci_leftovers.hpp"
#include "nslab/oci_state.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace nslab {

namespace {

constexpr int lab_number = 12;

// ROOT/ID: state.json, the exec FIFO until `start`, and config.json, the
// bundle's config as `create` read it (`exec` reads it again: an edit of
// the bundle after create changes nothing, as with runc).
struct Paths {
    std::string dir, state, fifo, config;
};

Paths paths_of(const oci_state::Invocation& call) {
    const std::string dir = call.root + "/" + call.id;
    return {dir, dir + "/" + oci_leftovers::state_file, dir + "/" + oci_leftovers::fifo_file,
            dir + "/" + oci_leftovers::config_file};
}

oci_state::Saved load(const oci_state::Invocation& call) {
    const Paths paths = paths_of(call);
    if (!sys::exists(paths.state)) throw std::runtime_error("container does not exist");
    return oci_state::from_json(sys::read_file(paths.state), paths.state);
}

oci::Process process_of(const oci_state::Saved& saved) {
    return {saved.pid, saved.start_time};
}

const char* namespace_name(int type) {
    return type == CLONE_NEWNET ? "network" : type == CLONE_NEWUTS ? "uts" : "ipc";
}

const char* status_name(oci::Status status) {
    switch (status) {
        case oci::Status::created:
            return "created";
        case oci::Status::running:
            return "running";
        case oci::Status::stopped:
            break;
    }
    return "stopped";
}

// The state file, whole or not at all: written beside, then renamed.
void save(const Paths& paths, const oci_state::Saved& saved) {
    oci_leftovers::write_whole(paths.state, oci_state::to_json(saved));
}

void remove_state_dir(const Paths& paths) {
    oci_leftovers::remove_dir(paths.dir);
}

// linux.namespaces[].path: each opened now, while the host's paths are
// ours, and checked to be a namespace of its type (ioctl_ns(2),
// NS_GET_NSTYPE): a plain file or another type is refused by its field.
std::vector<Fd> open_joined(Config& cfg) {
    std::vector<Fd> fds;
    for (JoinedNamespace& ns : cfg.joined) {
        Fd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw oci_config::Refused(ns.field, ns.path + ": " + std::strerror(errno));
        const int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
        if (type != ns.type)
            throw oci_config::Refused(ns.field, ns.path + ": not a " + namespace_name(ns.type) +
                                                    " namespace (ioctl NS_GET_NSTYPE)");
        ns.fd = fd.get();
        fds.push_back(std::move(fd));
    }
    return fds;
}

// process.terminal and --console-socket go together, as runc has them:
// create detaches, so the pty's master has nowhere to go but the socket.
Fd console_of(const Config& cfg, const oci_state::Invocation& call) {
    if (cfg.terminal && call.console_socket.empty())
        throw oci_config::Refused("process.terminal",
                                  "true needs --console-socket (create detaches: the pty's master "
                                  "is sent there)");
    if (!cfg.terminal && !call.console_socket.empty())
        throw std::runtime_error("--console-socket " + call.console_socket +
                                 ": process.terminal is not true, there is no pty to send");
    return cfg.terminal ? console::connect(call.console_socket) : Fd();
}

Config base_config() {
    Config cfg;
    cfg.lab = lab_number;
    cfg.program = lab_program_name(lab_number);
    cfg.id = random_id();
    return cfg;
}

int create(const oci_state::Invocation& call) {
    char* resolved = ::realpath(call.bundle.c_str(), nullptr);
    if (!resolved) sys::fail("--bundle " + call.bundle);
    const std::string bundle_dir = resolved;
    std::free(resolved);
    const std::string config_path = bundle_dir + "/config.json";
    const std::string config_text = sys::read_file(config_path);
    oci_config::Bundle bundle =
        oci_config::read(config_text, bundle_dir, base_config(),
                         [](const std::string& path) { return sys::exists(path); });
    Config& cfg = bundle.config;
    cfg.pid_file = call.pid_file;
    cfg.timings = call.timings;
    const Fd console = console_of(cfg, call);
    const std::vector<Fd> joined = open_joined(cfg);
    cfg.console_socket = console.get();

    // One directory per id: mkdir(2) is the lock, so of two creates of one
    // id the second fails here and touches nothing of the first's.
    sys::mkdir_p(call.root, 0700);
    const Paths paths = paths_of(call);
    if (::mkdir(paths.dir.c_str(), 0700) != 0) {
        if (errno == EEXIST) throw std::runtime_error("a container of this id exists already");
        sys::fail("mkdir(" + paths.dir + ")");
    }
    ScopeGuard remove_dir([&] { remove_state_dir(paths); });
    // Before anything is made, who makes it and the cgroup to come: a
    // SIGKILL from here on leaves a directory `delete --force` and `nslab
    // cleanup` know for unfinished, and what to remove with it.
    oci_leftovers::record_creator(paths.dir, cgroupfs::container_path(cfg.id, ::getpid()));
    oci_leftovers::write_new_file(paths.config, config_text);
    // Anyone may open it for writing (0622): the container's root may not
    // be the host's once a user namespace maps it.
    sys::check(::mkfifo(paths.fifo.c_str(), 0622), "mkfifo(" + paths.fifo + ")");
    sys::check(::chmod(paths.fifo.c_str(), 0622), "chmod(" + paths.fifo + ")");
    Fd fifo = sys::open(paths.fifo, O_PATH | O_CLOEXEC);
    cfg.exec_fifo = fifo.get();

    Created created;
    const int status = run_container(cfg, &created);
    if (status != 0 || created.pid == 0) return status == 0 ? exit_status::runtime_failed : status;
    if (console) console::wait_until_read(console.get(), std::chrono::seconds(5));
    const auto stat =
        procfs::parse_stat(sys::read_file("/proc/" + std::to_string(created.pid) + "/stat"));
    if (!stat)
        throw std::runtime_error("cannot read /proc/" + std::to_string(created.pid) + "/stat");
    // The cgroup is named after its owner, and ours exits now: the
    // container's process owns it from here (else `nslab cleanup` would
    // take a live container's cgroup for a SIGKILLed runtime's).
    if (!created.cgroup.empty()) cgroupfs::hand_over(created.cgroup, created.pid);
    oci_state::Saved saved{call.id,          bundle_dir,     created.pid,
                           stat->start_time, created.cgroup, bundle.annotations};
    save(paths, saved);
    remove_dir.dismiss();
    return 0;
}

int start(const oci_state::Invocation& call) {
    const oci_state::Saved saved = load(call);
    const Paths paths = paths_of(call);
    const oci::Status status = oci::status_of(process_of(saved), paths.fifo);
    if (status != oci::Status::created)
        throw std::runtime_error(std::string("cannot start a container that is ") +
                                 status_name(status));
    oci::release(paths.fifo, process_of(saved));
    return 0;
}

int state(const oci_state::Invocation& call) {
    const oci_state::Saved saved = load(call);
    const oci::Status status = oci::status_of(process_of(saved), paths_of(call).fifo);
    std::cout << oci_state::state_json(saved, status_name(status));
    return 0;
}

int kill(const oci_state::Invocation& call) {
    const oci_state::Saved saved = load(call);
    // --all: every process of its cgroup, the container's first and those
    // exec joined (and what they forked); none left is not an error.
    if (call.all && !saved.cgroup.empty()) {
        cgroupfs::signal_all(saved.cgroup, call.signal);
        return 0;
    }
    oci::send_signal(process_of(saved), call.signal);
    return 0;
}

// The process an exec runs, as the spec's process object: --process FILE
// whole, or the container's own with the command line's ARGs, --cwd,
// --env, --user and --tty in place of its fields (runc exec's options).
nlohmann::json exec_process(const oci_state::Invocation& call, nlohmann::json process) {
    if (!call.process.empty()) {
        nlohmann::json given = nlohmann::json::parse(sys::read_file(call.process), nullptr, false);
        if (!given.is_object())
            throw std::runtime_error("--process " + call.process + ": not a JSON object");
        if (call.tty) given["terminal"] = true;  // podman passes both
        return given;
    }
    if (!process.is_object()) process = nlohmann::json::object();
    process["args"] = call.args;
    process["terminal"] = call.tty;
    if (!call.cwd.empty()) process["cwd"] = call.cwd;
    for (const std::string& entry : call.env) process["env"].push_back(entry);
    if (!call.user.empty()) {
        const size_t colon = call.user.find(':');
        const std::string uid = call.user.substr(0, colon);
        const std::string gid = colon == std::string::npos ? "0" : call.user.substr(colon + 1);
        process["user"] = {{"uid", std::stoul(uid)}, {"gid", std::stoul(gid)}};  // checked digits
    }
    return process;
}

// exec --pid-file: the joined process's PID, written by the runtime after
// its fork, when its root is the container's already: through the
// directory it opened before the join, into a new file renamed in place.
class ExecPidFile {
  public:
    explicit ExecPidFile(const std::string& path) {
        if (path.empty()) return;
        const size_t slash = path.rfind('/');
        const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
        name_ = path.substr(slash == std::string::npos ? 0 : slash + 1);
        if (name_.empty()) throw std::runtime_error("--pid-file " + path + ": not a file name");
        dir_ = sys::open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        path_ = path;
    }
    void write(pid_t pid) const {
        if (!dir_) return;
        const std::string temporary = "." + name_ + ".new";
        const std::string text = std::to_string(pid);
        ::unlinkat(dir_.get(), temporary.c_str(), 0);
        Fd file(sys::check(::openat(dir_.get(), temporary.c_str(),
                                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644),
                           "open(--pid-file " + path_ + ")"));
        sys::check(::write(file.get(), text.data(), text.size()),
                   "write(--pid-file " + path_ + ")");
        sys::check(::renameat(dir_.get(), temporary.c_str(), dir_.get(), name_.c_str()),
                   "rename(--pid-file " + path_ + ")");
    }

  private:
    Fd dir_;
    std::string name_, path_;
};

int exec(const oci_state::Invocation& call) {
    const oci_state::Saved saved = load(call);
    const Paths paths = paths_of(call);
    if (oci::status_of(process_of(saved), paths.fifo) == oci::Status::stopped)
        throw std::runtime_error("cannot exec in a container that is stopped");
    nlohmann::json doc = nlohmann::json::parse(sys::read_file(paths.config), nullptr, false);
    if (!doc.is_object()) throw std::runtime_error(paths.config + ": not a JSON object");
    doc["process"] = exec_process(call, doc.value("process", nlohmann::json::object()));
    // The same reader as create's: the process is confined as the
    // container's first one was (its binds were checked then).
    oci_config::Bundle bundle = oci_config::read(doc.dump(), saved.bundle, base_config(),
                                                 [](const std::string&) { return true; });
    Config& cfg = bundle.config;
    cfg.target = saved.pid;  // lab 09 joins it
    const Fd console = console_of(cfg, call);
    cfg.console_socket = console.get();
    const ExecPidFile pid_file(call.pid_file);
    // Closed by the child's exec (close-on-exec) or its exit: until then it
    // is still setting itself up (its seccomp filter comes last), and
    // neither its PID nor --detach's exit may tell the engine it runs.
    int ends[2];
    sys::check(::pipe2(ends, O_CLOEXEC), "pipe2()");
    Fd until_exec(ends[0]), exec_closes(ends[1]);
    set_joined_process({
        .in_child =
            [&] {
                until_exec.reset();
                set_up_joined_process(cfg);
            },
        .after_fork = [&](pid_t child) -> std::optional<int> {
            exec_closes.reset();
            char byte = 0;
            while (::read(until_exec.get(), &byte, 1) < 0 && errno == EINTR) {}
            try {
                pid_file.write(child);
            } catch (...) {
                ::kill(child, SIGKILL);  // nobody would know its PID
                throw;
            }
            if (!call.detach) return std::nullopt;  // wait for it, passing signals on
            if (console) console::wait_until_read(console.get(), std::chrono::seconds(5));
            return 0;  // its parent leaves: the caller's subreaper takes it
        },
    });
    return join_container(cfg);
}

int remove(const oci_state::Invocation& call) {
    // No state.json yet: a create runs, or was killed (oci_leftovers.hpp).
    const std::string dir = paths_of(call).dir;
    switch (oci_leftovers::judge(dir)) {
        case oci_leftovers::Kind::being_created:
            throw std::runtime_error("it is being created: its create still runs");
        case oci_leftovers::Kind::unfinished:
            if (!call.force)
                throw std::runtime_error(
                    "its create was killed before it finished: delete --force removes what it "
                    "left");
            if (!oci_leftovers::remove_unfinished(dir))
                throw std::runtime_error("it is being created: its create still runs");
            return 0;
        case oci_leftovers::Kind::missing:
            if (call.force) return 0;  // as runc: nothing to remove is no error then
            break;
        case oci_leftovers::Kind::container:
            break;
    }
    const oci_state::Saved saved = load(call);
    Config cfg = base_config();
    oci::remove(cfg, process_of(saved), saved.cgroup, call.force);
    if (!saved.cgroup.empty()) cgroupfs::release_hand_over(saved.cgroup);
    remove_state_dir(paths_of(call));
    return 0;
}

// runc's run: create, start, and (unless --detach) wait as the container's
// parent, passing signals on, then delete; its exit status is ours. create
// made it our child, so here waitpid(2) can, as start and kill cannot.
int run(const oci_state::Invocation& call) {
    const int created = create(call);
    if (created != 0) return created;
    oci_state::Invocation force = call;
    force.force = true;
    ScopeGuard remove_it([&] { remove(force); });  // start failed: nothing of it may stay
    start(call);
    if (call.detach) {
        remove_it.dismiss();
        return 0;  // the caller's subreaper takes it, as after create
    }
    const int status = exit_status_of(wait_forwarding_signals(load(call).pid));
    remove_it.dismiss();
    remove(force);
    return status;
}

// runc's --log: errors go there too, one line each, as conmon reads them.
void log_error(const oci_state::Invocation& call, const std::string& message) {
    if (call.log.empty()) return;
    std::string line = message;
    if (call.log_format == "json") {
        char when[32] = {};
        const std::time_t now = std::time(nullptr);
        std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
        line = nlohmann::json{{"level", "error"}, {"msg", message}, {"time", when}}.dump();
    }
    line += "\n";
    int fd = ::open(call.log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    [[maybe_unused]] ssize_t written = ::write(fd, line.data(), line.size());
    ::close(fd);
}

}  // namespace

int oci_main(int argc, const char* const* argv) {
    const std::string program = lab_program_name(lab_number);
    oci_state::Invocation call;
    try {
        call = oci_state::parse_invocation(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const UsageError& e) {
        std::fprintf(stderr, "%s: %s\nTry '%s --help'.\n", program.c_str(), e.what(),
                     program.c_str());
        return exit_status::usage;
    }
    if (call.help) {
        std::cout << "Usage: " << program
                  << " [--root DIR] [--log FILE] [--log-format text|json] COMMAND [OPTION]... ID\n"
                     "An OCI runtime (the runtime spec's operations) over labs 01-11.\n\n"
                     "Commands:\n"
                     "  create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK]\n"
                     "         [--timings] ID                        set up, wait before exec;\n"
                     "                                               --timings: each step's time\n"
                     "  start ID                                     let it exec\n"
                     "  run [--bundle DIR] [--pid-file F] [--detach] ID\n"
                     "                                               create, start, wait, delete\n"
                     "  state ID                                     the spec's state, as JSON\n"
                     "  kill ID [SIGNAL]                             signal it (default TERM)\n"
                     "  delete [--force] ID                          remove a stopped one\n"
                     "  exec [--process FILE | --cwd DIR --env K=V --user UID[:GID] --tty]\n"
                     "       [--detach] [--pid-file FILE] [--console-socket SOCK] ID [ARG]...\n"
                     "                                               run a process in it\n"
                     "  kill --all ID [SIGNAL]                       every process of its cgroup\n"
                     "  features                                     what it supports, as JSON\n\n"
                     "Default --root: "
                  << oci_state::default_root << "\nHandout: labs/" << program << "/README.md\n";
        return 0;
    }
    if (call.version) {
        std::cout << program << " (nslab) " << NSLAB_VERSION << "\nspec: " << oci_state::oci_version
                  << "\n";
        return 0;
    }
    try {
        if (call.command == "create") return create(call);
        if (call.command == "start") return start(call);
        if (call.command == "state") return state(call);
        if (call.command == "kill") return kill(call);
        if (call.command == "exec") return exec(call);
        if (call.command == "run") return run(call);
        if (call.command == "features") {
            std::cout << oci_config::features();
            return 0;
        }
        return remove(call);
    } catch (const std::exception& e) {
        const std::string message = call.command + " " + call.id + ": " + e.what();
        std::fprintf(stderr, "%s: %s\n", program.c_str(), message.c_str());
        log_error(call, message);
        return 1;
    }
}

}  // namespace nslab

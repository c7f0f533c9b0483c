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
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "nslab/cgroupfs.hpp"
#include "nslab/cli.hpp"
#include "nslab/console.hpp"
#include "nslab/container.hpp"
#include "nslab/errors.hpp"
#include "nslab/layers/oci.hpp"
#include "nslab/oci_config.hpp"
#include "nslab/oci_state.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace nslab {

namespace {

constexpr int lab_number = 12;

struct Paths {
    std::string dir, state, fifo;
};

Paths paths_of(const oci_state::Invocation& call) {
    const std::string dir = call.root + "/" + call.id;
    return {dir, dir + "/state.json", dir + "/exec.fifo"};
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
    const std::string temporary = paths.state + ".new";
    const std::string text = oci_state::to_json(saved);
    Fd file = sys::open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    const ssize_t written =
        sys::check(::write(file.get(), text.data(), text.size()), "write(" + temporary + ")");
    if (static_cast<size_t>(written) != text.size())
        throw std::runtime_error("write(" + temporary + "): short write");
    sys::check(::rename(temporary.c_str(), paths.state.c_str()), "rename(" + paths.state + ")");
}

void remove_state_dir(const Paths& paths) {
    for (const std::string& file : {paths.state, paths.fifo, paths.state + ".new"})
        if (::unlink(file.c_str()) != 0 && errno != ENOENT) sys::fail("unlink(" + file + ")");
    if (::rmdir(paths.dir.c_str()) != 0 && errno != ENOENT) sys::fail("rmdir(" + paths.dir + ")");
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
    oci_config::Bundle bundle =
        oci_config::read(sys::read_file(config_path), bundle_dir, base_config(),
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
    oci::send_signal(process_of(load(call)), call.signal);
    return 0;
}

int remove(const oci_state::Invocation& call) {
    const oci_state::Saved saved = load(call);
    Config cfg = base_config();
    oci::remove(cfg, process_of(saved), saved.cgroup, call.force);
    if (!saved.cgroup.empty()) cgroupfs::release_hand_over(saved.cgroup);
    remove_state_dir(paths_of(call));
    return 0;
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
                     "  state ID                                     the spec's state, as JSON\n"
                     "  kill ID [SIGNAL]                             signal it (default TERM)\n"
                     "  delete [--force] ID                          remove a stopped one\n\n"
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
        return remove(call);
    } catch (const std::exception& e) {
        const std::string message = call.command + " " + call.id + ": " + e.what();
        std::fprintf(stderr, "%s: %s\n", program.c_str(), message.c_str());
        log_error(call, message);
        return 1;
    }
}

}  // namespace nslab

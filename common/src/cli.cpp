#include "nslab/cli.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <array>
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string_view>

#include "nslab/errors.hpp"
#include "nslab/idmap.hpp"
#include "nslab/parse.hpp"

namespace po = boost::program_options;

namespace nslab {

namespace {

constexpr std::array<std::string_view, 10> lab_layers = {
    "process", "pid", "mount", "uts", "net", "user", "cgroup", "time", "ipc", "exec"};

// Which lab first has an option, so a later lab's option given to an earlier
// lab can say where it belongs instead of "unrecognised".
struct OptionHome {
    std::string_view name;
    int lab;
};
constexpr OptionHome option_homes[] = {
    {"pid-file", 1},
    {"init", 1},
    {"timings", 1},
    {"rootfs", 2},
    {"rootfs-writable", 2},
    {"tmpfs-size", 2},
    {"hostname", 3},
    {"domainname", 3},
    {"net", 4},
    {"ip", 4},
    {"userns", 5},
    {"uid-map", 5},
    {"gid-map", 5},
    {"memory", 6},
    {"pids", 6},
    {"cpus", 6},
    {"monotonic-offset", 7},
    {"boottime-offset", 7},
    {"pid", 9},
};

std::string random_id() {
    unsigned char bytes[4] = {};
    if (::getrandom(bytes, sizeof bytes, 0) != sizeof bytes) {
        auto pid = static_cast<unsigned>(::getpid());
        std::memcpy(bytes, &pid, sizeof bytes);
    }
    char hex[9];
    std::snprintf(hex, sizeof hex, "%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
    return hex;
}

std::string usage_line(int lab, const std::string& program) {
    if (lab == 0) return "Usage: " + program + " [OPTION]... [PID [PID]]";
    if (lab == 9)
        return "Usage: " + program +
               " (--pid PID | --pid-file FILE) [OPTION]... -- COMMAND [ARG]...";
    return "Usage: " + program + " [OPTION]... -- COMMAND [ARG]...";
}

std::string summary(int lab) {
    static constexpr std::array<std::string_view, 10> summaries = {
        "Show a process's identity and namespaces, as /proc shows them.",
        "Run COMMAND in a new PID namespace.",
        "Run COMMAND in new PID and mount namespaces, on its own root filesystem.",
        "Run COMMAND in new PID, mount and UTS namespaces.",
        "Run COMMAND in new PID, mount, UTS and network namespaces.",
        "Run COMMAND in new PID, mount, UTS, network and (with --userns) user namespaces.",
        "Run COMMAND in namespaces and a cgroup with limits.",
        "Run COMMAND in namespaces, a cgroup and a time namespace.",
        "Run COMMAND in every namespace type: a small container runtime.",
        "Run COMMAND inside a running container (setns), like docker exec.",
    };
    return std::string(summaries.at(static_cast<size_t>(lab)));
}

po::options_description options_for(int lab, const std::string& default_rootfs) {
    po::options_description all("Options");
    all.add_options()("help", "print this help and exit")("version", "print the version and exit")(
        "verbose,v", "say what each step does, on stderr");
    if (lab >= 1 && lab <= 8) {
        all.add_options()("timings", "print how long each set-up step took, on stderr")(
            "pid-file", po::value<std::string>()->value_name("FILE"),
            "write the container's host PID to FILE once it is set up, before exec")(
            "init", "run a tiny init as PID 1 (reaps zombies, forwards signals); COMMAND is PID 2");
    }
    if (lab >= 2 && lab <= 8)
        all.add_options()(
            "rootfs", po::value<std::string>()->value_name("DIR"),
            ("root filesystem of the container (default: " + default_rootfs + ")").c_str())(
            "rootfs-writable",
            "mount the rootfs read-write (for a private copy; default: read-only, so no "
            "container changes what the next one runs)")(
            "tmpfs-size", po::value<std::string>()->value_name("BYTES"),
            "size of /tmp and of /dev/shm inside, such as 16M (default: 64M)");
    if (lab >= 3 && lab <= 8)
        all.add_options()("hostname", po::value<std::string>()->value_name("NAME"),
                          "hostname inside (default: the container id)")(
            "domainname", po::value<std::string>()->value_name("NAME"), "NIS domain name inside");
    if (lab >= 4 && lab <= 8)
        all.add_options()("net", po::value<std::string>()->value_name("none|bridge"),
                          "none: only lo; bridge: a veth pair to the host bridge nslab0 (default)")(
            "ip", po::value<std::string>()->value_name("CIDR"),
            "the container's address on the bridge (default: the next free one)");
    if (lab >= 5 && lab <= 8)
        all.add_options()("userns", "create a user namespace (rootless when run as a user)")(
            "uid-map", po::value<std::vector<std::string>>()->value_name("IN:OUT:COUNT"),
            "a uid range of the user namespace (default: 0:<your uid>:1; as root, the "
            "subordinate uids of user nslab in /etc/subuid); repeatable")(
            "gid-map", po::value<std::vector<std::string>>()->value_name("IN:OUT:COUNT"),
            "a gid range of the user namespace (default: 0:<your gid>:1; as root, the "
            "subordinate gids of user nslab in /etc/subgid); repeatable");
    if (lab >= 6 && lab <= 8)
        all.add_options()("memory", po::value<std::string>()->value_name("BYTES"),
                          "memory limit, such as 64M or 1G")(
            "pids", po::value<std::string>()->value_name("N"), "at most N processes")(
            "cpus", po::value<std::string>()->value_name("X"), "CPU share, such as 0.5 or 2");
    if (lab >= 7 && lab <= 8)
        all.add_options()("monotonic-offset", po::value<std::string>()->value_name("S"),
                          "move CLOCK_MONOTONIC by S seconds inside")(
            "boottime-offset", po::value<std::string>()->value_name("S"),
            "move CLOCK_BOOTTIME (and /proc/uptime) by S seconds inside");
    if (lab == 9)
        all.add_options()("pid", po::value<std::string>()->value_name("PID"),
                          "the container to join: the host PID of its first process")(
            "pid-file", po::value<std::string>()->value_name("FILE"),
            "read that PID from FILE (as written by --pid-file)");
    return all;
}

[[noreturn]] void refuse_unknown(int lab, const std::string& option) {
    std::string name = option;
    while (!name.empty() && name.front() == '-') name.erase(0, 1);
    for (const auto& home : option_homes) {
        if (home.name != name) continue;
        if (home.lab > lab && lab != 9)
            throw UsageError("option '--" + name + "' comes with lab " +
                             (home.lab < 10 ? "0" : "") + std::to_string(home.lab) + " (" +
                             std::string(lab_layers.at(static_cast<size_t>(home.lab))) + "); use " +
                             lab_program_name(home.lab) + " or a later lab");
    }
    throw UsageError("unrecognized option '" + option + "'");
}

}  // namespace

std::string lab_program_name(int lab) {
    return std::string(lab < 10 ? "lab0" : "lab") + std::to_string(lab) + "_" +
           std::string(lab_layers.at(static_cast<size_t>(lab)));
}

ParsedCommandLine parse_command_line(int lab, int argc, const char* const* argv) {
    ParsedCommandLine parsed;
    Config& cfg = parsed.config;
    cfg.lab = lab;
    cfg.program = lab_program_name(lab);
    cfg.id = random_id();
    cfg.rootfs = NSLAB_DEFAULT_ROOTFS;

    // Everything after the first `--` is the command, untouched.
    std::vector<std::string> ours;
    int i = 1;
    for (; i < argc && std::string_view(argv[i]) != "--"; ++i) ours.emplace_back(argv[i]);
    for (++i; i < argc; ++i) cfg.command.emplace_back(argv[i]);

    auto options = options_for(lab, cfg.rootfs);
    po::options_description hidden;
    hidden.add_options()("positional", po::value<std::vector<std::string>>());
    po::options_description everything;
    everything.add(options).add(hidden);
    po::positional_options_description positional;
    positional.add("positional", -1);

    po::variables_map vm;
    try {
        // Abbreviations off: `--host` must not quietly mean --hostname.
        auto style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
        po::store(po::command_line_parser(ours)
                      .options(everything)
                      .positional(positional)
                      .style(style)
                      .run(),
                  vm);
        po::notify(vm);
    } catch (const po::unknown_option& e) {
        refuse_unknown(lab, e.get_option_name());
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }

    if (vm.count("help")) {
        std::cout << usage_line(lab, cfg.program) << "\n" << summary(lab) << "\n\n" << options;
        if (lab >= 1 && lab <= 8)
            std::cout
                << "\nExit status: COMMAND's own; 128+N if signal N killed it;\n"
                   "125 if the runtime failed; 126 if COMMAND cannot run; 127 if not found.\n";
        std::cout << "\nHandout: labs/" << cfg.program << "/README.md\n";
        parsed.exit_now = 0;
        return parsed;
    }
    if (vm.count("version")) {
        std::cout << cfg.program << " (nslab) " << NSLAB_VERSION << "\n";
        parsed.exit_now = 0;
        return parsed;
    }

    auto text = [&](const char* name) { return vm[name].as<std::string>(); };
    auto list = [&](const char* name) { return vm[name].as<std::vector<std::string>>(); };
    std::vector<std::string> positionals =
        vm.count("positional") ? list("positional") : std::vector<std::string>{};

    cfg.verbose = vm.count("verbose") > 0;
    cfg.timings = vm.count("timings") > 0;
    cfg.init = vm.count("init") > 0;
    if (vm.count("pid-file")) cfg.pid_file = text("pid-file");
    if (vm.count("pid-file") && cfg.pid_file.empty())
        throw UsageError("--pid-file needs a file name");
    if (vm.count("rootfs")) cfg.rootfs = text("rootfs");
    cfg.rootfs_writable = vm.count("rootfs-writable") > 0;
    if (vm.count("tmpfs-size")) cfg.tmpfs_size = parse::size("--tmpfs-size", text("tmpfs-size"));
    if (vm.count("hostname")) cfg.hostname = parse::hostname("--hostname", text("hostname"));
    if (vm.count("domainname"))
        cfg.domainname = parse::hostname("--domainname", text("domainname"));
    // A rootless container (--userns, run by a user) cannot plug a veth into
    // the host's bridge: its default is none, and an explicit bridge is refused.
    if (lab >= 4 && lab <= 8)
        cfg.net = lab >= 5 && vm.count("userns") && !idmap::Caller::current().privileged
                      ? NetMode::none
                      : NetMode::bridge;
    if (vm.count("net")) {
        auto mode = text("net");
        if (mode == "none")
            cfg.net = NetMode::none;
        else if (mode == "bridge")
            cfg.net = NetMode::bridge;
        else
            parse::invalid("--net", mode, "expected none or bridge");
    }
    if (vm.count("ip")) {
        if (cfg.net != NetMode::bridge) throw UsageError("--ip needs --net bridge");
        cfg.ip = parse::cidr("--ip", text("ip"));
    }
    cfg.userns = vm.count("userns") > 0;
    for (const char* name : {"uid-map", "gid-map"}) {
        if (!vm.count(name)) continue;
        if (!cfg.userns) throw UsageError(std::string("--") + name + " needs --userns");
        auto& map = std::string_view(name) == "uid-map" ? cfg.uid_map : cfg.gid_map;
        for (const auto& entry : list(name))
            map.push_back(parse::id_map(std::string("--") + name, entry));
    }
    if (vm.count("memory")) cfg.memory = parse::size("--memory", text("memory"));
    if (vm.count("pids")) cfg.pids = parse::positive("--pids", text("pids"));
    if (vm.count("cpus")) cfg.cpus = parse::positive_decimal("--cpus", text("cpus"));
    if (vm.count("monotonic-offset"))
        cfg.monotonic_offset = parse::seconds("--monotonic-offset", text("monotonic-offset"));
    if (vm.count("boottime-offset"))
        cfg.boottime_offset = parse::seconds("--boottime-offset", text("boottime-offset"));

    if (lab == 0) {
        positionals.insert(positionals.end(), cfg.command.begin(), cfg.command.end());
        cfg.command.clear();
        if (positionals.size() > 2)
            throw UsageError("at most two PIDs, got " + std::to_string(positionals.size()));
        for (const auto& p : positionals)
            cfg.show_pids.push_back(static_cast<pid_t>(parse::positive("PID", p)));
        return parsed;
    }
    // A command may also come without `--` when it has no options of its own.
    cfg.command.insert(cfg.command.begin(), positionals.begin(), positionals.end());
    if (cfg.command.empty()) throw UsageError("missing command: give it after --, e.g. -- /bin/sh");
    if (lab == 9) {
        if (vm.count("pid") == vm.count("pid-file"))
            throw UsageError("give the container to join: --pid PID or --pid-file FILE");
        if (vm.count("pid")) cfg.target = static_cast<pid_t>(parse::positive("--pid", text("pid")));
    }
    return parsed;
}

}  // namespace nslab

#include "nslab/cli.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <array>
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string_view>

#include "nslab/capabilities.hpp"
#include "nslab/confine_plan.hpp"
#include "nslab/errors.hpp"
#include "nslab/idmap.hpp"
#include "nslab/nat_plan.hpp"
#include "nslab/net_plan.hpp"
#include "nslab/parse.hpp"

namespace po = boost::program_options;

namespace nslab {

namespace {

// Every option a lab can bring, defined once; the lab table (labs.hpp) says
// which lab brings which. --pid-file means "write" where a container is
// built and "read" where one is joined.
struct OptionSpec {
    std::string_view name;
    std::string_view value;  // its argument's name; empty: a flag
    std::string_view help;
    LabKind kind = LabKind::build;  // the kind of lab it means this in
    bool repeatable = false;
};
constexpr OptionSpec option_specs[] = {
    {"timings", "", "print how long each set-up step took, on stderr"},
    {"pid-file", "FILE", "write the container's host PID to FILE once it is set up, before exec"},
    {"init", "", "run a tiny init as PID 1 (reaps zombies, forwards signals); COMMAND is PID 2"},
    {"rootfs", "DIR", "root filesystem of the container (default: DEFAULT_ROOTFS)"},
    {"rootfs-writable", "",
     "mount the rootfs read-write (for a private copy; default: read-only, so no container "
     "changes what the next one runs)"},
    {"tmpfs-size", "BYTES", "size of /tmp and of /dev/shm inside, such as 16M (default: 64M)"},
    {"hostname", "NAME", "hostname inside (default: the container id)"},
    {"domainname", "NAME", "NIS domain name inside"},
    {"net", "none|bridge",
     "none: only lo; bridge: a veth pair to the host bridge nslab0 (default)"},
    {"ip", "CIDR", "the container's address on the bridge (default: the next free one)"},
    {"dns", "ADDRESS",
     "a nameserver for the container's /etc/resolv.conf (default: the host's resolv.conf); "
     "repeatable",
     LabKind::build, true},
    {"publish", "HOSTPORT:PORT[/tcp|/udp]",
     "forward the host's port HOSTPORT to the container's PORT (DNAT, from outside and from the "
     "host itself), like docker run -p; repeatable",
     LabKind::build, true},
    {"userns", "", "create a user namespace (rootless when run as a user)"},
    {"uid-map", "IN:OUT:COUNT",
     "a uid range of the user namespace (default: 0:<your uid>:1; as root, the subordinate "
     "uids of user nslab in /etc/subuid); repeatable",
     LabKind::build, true},
    {"gid-map", "IN:OUT:COUNT",
     "a gid range of the user namespace (default: 0:<your gid>:1; as root, the subordinate "
     "gids of user nslab in /etc/subgid); repeatable",
     LabKind::build, true},
    {"memory", "BYTES", "memory limit, such as 64M or 1G"},
    {"pids", "N", "at most N processes"},
    {"cpus", "X", "CPU share, such as 0.5 or 2"},
    {"monotonic-offset", "S", "move CLOCK_MONOTONIC by S seconds inside"},
    {"boottime-offset", "S", "move CLOCK_BOOTTIME (and /proc/uptime) by S seconds inside"},
    {"pid", "PID", "the container to join: the host PID of its first process", LabKind::join},
    {"pid-file", "FILE", "read that PID from FILE (as written by --pid-file)", LabKind::join},
    {"layer", "DIR",
     "a read-only image layer above the rootfs (the lowest layer); repeatable, lowest first",
     LabKind::build, true},
    {"image", "PATH",
     "run an OCI image: a layout directory or an oci-archive file (podman save --format "
     "oci-archive), or the NAME of one `nslab image build` made (a PATH has a '/' or exists); "
     "its config's Env, Entrypoint, Cmd, WorkingDir and User apply; --layer directories stack "
     "above its layers"},
    {"keep-changes", "DIR",
     "keep what the container wrote (its upper directory) as a new layer DIR, like docker commit"},
    {"cap-add", "NAME|ALL",
     "a capability the container keeps beyond Docker's 14 (capabilities(7), as CHOWN or "
     "SYS_ADMIN); repeatable",
     LabKind::build, true},
    {"cap-drop", "NAME|ALL", "a capability of Docker's 14 the container does not keep; repeatable",
     LabKind::build, true},
    {"no-new-privs", "true|false",
     "no_new_privs: a setuid file or a file capability gains nothing at exec (default: true)"},
    {"seccomp", "unconfined|FILE",
     "unconfined: no seccomp filter; FILE: a profile in Docker's JSON format (default: a filter "
     "with the effect of Docker's default profile)"},
};

// Calls f(name) for each option `lab` brings itself, in the table's order.
template <typename F>
void for_each_own_option(const Lab& lab, F f) {
    std::string_view rest = lab.options;
    while (!rest.empty()) {
        size_t end = rest.find(' ');
        if (end != 0) f(rest.substr(0, end));
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
    }
}

const OptionSpec& spec_of(std::string_view name, LabKind kind) {
    for (const auto& spec : option_specs)
        if (spec.name == name && spec.kind == kind) return spec;
    throw std::logic_error("labs.hpp names an option cli.cpp does not define: " +
                           std::string(name));
}

const Lab& lab_at(int number) {
    const Lab* lab = find_lab(number);
    if (!lab) throw std::logic_error("no lab " + std::to_string(number) + " in labs.hpp");
    return *lab;
}

std::string usage_line(const Lab& lab, const std::string& program) {
    switch (lab.kind) {
        case LabKind::inspect:
            return "Usage: " + program + " [OPTION]... [PID [PID]]";
        case LabKind::join:
            return "Usage: " + program +
                   " (--pid PID | --pid-file FILE) [OPTION]... -- COMMAND [ARG]...";
        case LabKind::runtime:
            return "Usage: " + program + " [GLOBAL OPTION]... COMMAND [OPTION]... ID";
        case LabKind::build:
            break;
    }
    return "Usage: " + program + " [OPTION]... -- COMMAND [ARG]...";
}

// The options of every lab whose options `lab` takes, in the table's order.
po::options_description options_for(const Lab& lab, const std::string& default_rootfs) {
    po::options_description all("Options");
    all.add_options()("help,h", "print this help and exit")(
        "version", "print the version and exit")("verbose,v", "say what each step does, on stderr");
    for (const Lab& owner : lab_table) {
        if (!takes_options_of(lab, owner)) continue;
        for_each_own_option(owner, [&](std::string_view name) {
            const OptionSpec& spec = spec_of(name, owner.kind);
            std::string help(spec.help);
            if (auto at = help.find("DEFAULT_ROOTFS"); at != std::string::npos)
                help.replace(at, std::string_view("DEFAULT_ROOTFS").size(), default_rootfs);
            const std::string key(spec.name);
            const std::string value(spec.value);
            if (spec.value.empty())
                all.add_options()(key.c_str(), help.c_str());
            else if (spec.repeatable)
                all.add_options()(key.c_str(),
                                  po::value<std::vector<std::string>>()->value_name(value),
                                  help.c_str());
            else
                all.add_options()(key.c_str(), po::value<std::string>()->value_name(value),
                                  help.c_str());
        });
    }
    return all;
}

// An option of a lab this one does not include says where it belongs
// instead of "unrecognised" (a join lab takes no build lab's options).
[[noreturn]] void refuse_unknown(const Lab& lab, const std::string& option) {
    std::string name = option;
    while (!name.empty() && name.front() == '-') name.erase(0, 1);
    for (const Lab& home : lab_table) {
        bool brings = false;
        for_each_own_option(home, [&](std::string_view own) { brings = brings || own == name; });
        if (!brings) continue;
        if (lab.kind != LabKind::join && !takes_options_of(lab, home)) {
            std::string program = lab_program_name(home);
            throw UsageError("option '--" + name + "' comes with lab " + program.substr(3, 2) +
                             " (" + std::string(home.name) + "); use " + program +
                             " or a later lab");
        }
        break;
    }
    throw UsageError("unrecognized option '" + option + "'");
}

}  // namespace

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

std::string lab_program_name(int lab) {
    return lab_program_name(lab_at(lab));
}

ParsedCommandLine parse_command_line(int number, int argc, const char* const* argv) {
    const Lab& lab = lab_at(number);
    ParsedCommandLine parsed;
    Config& cfg = parsed.config;
    cfg.lab = lab.number;
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
        std::cout << usage_line(lab, cfg.program) << "\n" << lab.summary << "\n\n" << options;
        if (lab.kind == LabKind::build)
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
    if (cfg.has(Layer::net))
        cfg.net = vm.count("userns") && !idmap::Caller::current().privileged ? NetMode::none
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
    if (vm.count("dns")) {
        if (cfg.net != NetMode::bridge) throw UsageError("--dns needs --net bridge");
        for (const auto& value : list("dns")) {
            auto address = net_plan::parse_address(value);
            if (!address) parse::invalid("--dns", value, "expected an IPv4 address");
            cfg.dns.push_back(*address);
        }
    }
    if (vm.count("publish")) {
        if (cfg.net != NetMode::bridge) throw UsageError("--publish needs --net bridge");
        for (const auto& value : list("publish")) {
            PortMapping p = nat_plan::parse_publish(value);
            for (const auto& earlier : cfg.publish)
                if (earlier.host == p.host && earlier.udp == p.udp)
                    parse::invalid("--publish", value, "that host port is given twice");
            cfg.publish.push_back(p);
        }
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

    if (vm.count("layer")) cfg.layers = list("layer");
    if (vm.count("image")) cfg.image = text("image");
    if (vm.count("image") && cfg.image.empty()) throw UsageError("--image needs a path");
    if (vm.count("image") && vm.count("rootfs"))
        throw UsageError("--image and --rootfs: the image is the root, give one of them");
    if (vm.count("keep-changes")) cfg.keep_changes = text("keep-changes");
    if (vm.count("keep-changes") && cfg.keep_changes.empty())
        throw UsageError("--keep-changes needs a directory name");

    if (vm.count("cap-add")) cfg.cap_add = list("cap-add");
    if (vm.count("cap-drop")) cfg.cap_drop = list("cap-drop");
    caps::check_names(cfg);
    if (vm.count("no-new-privs")) {
        const std::string value = text("no-new-privs");
        if (value != "true" && value != "false")
            parse::invalid("--no-new-privs", value, "expected true or false");
        cfg.no_new_privs = value == "true";
    }
    if (vm.count("seccomp")) {
        const std::string value = text("seccomp");
        if (value.empty()) throw UsageError("--seccomp needs unconfined or a profile file");
        if (value == "unconfined")
            cfg.seccomp = false;
        else
            cfg.seccomp_profile = value;
        // A profile is read and checked now, before the container's root
        // hides the file: a bad one is a bad command line.
        if (cfg.seccomp) {
            cfg.seccomp_profile_text = confine_plan::read_profile(value);
            confine_plan::parse_profile(value, cfg.seccomp_profile_text);
        }
    }

    if (lab.kind == LabKind::inspect) {
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
    // An image's Entrypoint and Cmd may say what runs (the runtime checks).
    if (cfg.command.empty() && cfg.image.empty())
        throw UsageError("missing command: give it after --, e.g. -- /bin/sh");
    if (lab.kind == LabKind::join) {
        if (vm.count("pid") == vm.count("pid-file"))
            throw UsageError("give the container to join: --pid PID or --pid-file FILE");
        if (vm.count("pid")) cfg.target = static_cast<pid_t>(parse::positive("--pid", text("pid")));
    }
    return parsed;
}

}  // namespace nslab

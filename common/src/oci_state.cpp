#include "nslab/oci_state.hpp"

#include <strings.h>

#include <charconv>
#include <csignal>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "nslab/errors.hpp"

namespace nslab::oci_state {

namespace {

using nlohmann::json;

// runc's and crun's options that podman passes and nslab accepts, per
// command; `value` says whether one follows. Others are refused by name.
struct Option {
    std::string_view command;  // "" : a global option
    std::string_view long_name;
    char short_name;
    bool value;
};
constexpr Option options[] = {
    {"", "root", 0, true},
    {"", "log", 0, true},
    {"", "log-format", 0, true},
    {"", "version", 'v', false},
    {"", "help", 'h', false},
    {"create", "bundle", 'b', true},
    {"create", "pid-file", 0, true},
    {"delete", "force", 'f', false},
    {"create", "timings", 0, false},  // nslab's own: the set-up steps' times (bench/oci)
    {"create", "console-socket", 0, true},
    {"create", "no-new-keyring", 0, false},
    {"kill", "all", 'a', false},
    {"run", "bundle", 'b', true},
    {"run", "pid-file", 0, true},
    {"run", "console-socket", 0, true},
    {"run", "detach", 'd', false},
    {"run", "no-new-keyring", 0, false},
    {"exec", "process", 'p', true},
    {"exec", "pid-file", 0, true},
    {"exec", "console-socket", 0, true},
    {"exec", "tty", 't', false},
    {"exec", "detach", 'd', false},
    {"exec", "cwd", 0, true},
    {"exec", "env", 'e', true},
    {"exec", "user", 'u', true},
    {"", "systemd-cgroup", 0, false},
};

const Option* find_option(std::string_view command, std::string_view arg) {
    for (const Option& option : options) {
        if (option.command != command) continue;
        if (arg.size() > 2 && arg.substr(0, 2) == "--" && arg.substr(2) == option.long_name)
            return &option;
        if (arg.size() == 2 && arg[0] == '-' && option.short_name && arg[1] == option.short_name)
            return &option;
    }
    return nullptr;
}

void set(Invocation& out, std::string_view name, const std::string& value) {
    if (name == "root") out.root = value;
    if (name == "log") out.log = value;
    if (name == "log-format") {
        if (value != "text" && value != "json")
            throw UsageError("invalid value '" + value +
                             "' for --log-format: expected text or json");
        out.log_format = value;
    }
    if (name == "version") out.version = true;
    if (name == "help") out.help = true;
    if (name == "bundle") out.bundle = value;
    if (name == "pid-file") out.pid_file = value;
    if (name == "force") out.force = true;
    if (name == "timings") out.timings = true;
    if (name == "console-socket") out.console_socket = value;
    if (name == "no-new-keyring") out.no_new_keyring = true;
    if (name == "all") out.all = true;
    if (name == "process") out.process = value;
    if (name == "tty") out.tty = true;
    if (name == "detach") out.detach = true;
    if (name == "cwd") out.cwd = value;
    if (name == "env") {
        if (value.find('=') == std::string::npos || value.front() == '=')
            throw UsageError("invalid value '" + value + "' for --env: expected NAME=VALUE");
        out.env.push_back(value);
    }
    if (name == "user") {
        const size_t colon = value.find(':');
        auto digits = [](std::string_view text) {
            return !text.empty() && text.size() <= 9 &&
                   text.find_first_not_of("0123456789") == std::string_view::npos;
        };
        if (!digits(std::string_view(value).substr(0, colon)) ||
            (colon != std::string::npos && !digits(std::string_view(value).substr(colon + 1))))
            throw UsageError("invalid value '" + value +
                             "' for --user: expected UID[:GID], numbers");
        out.user = value;
    }
    if (name == "systemd-cgroup")
        throw UsageError(
            "--systemd-cgroup is not supported: nslab makes its cgroups itself, through "
            "cgroupfs (lab 06); run podman with --cgroup-manager=cgroupfs");
    if ((name == "root" || name == "bundle" || name == "pid-file" || name == "log" ||
         name == "console-socket" || name == "process" || name == "cwd") &&
        value.empty())
        throw UsageError("--" + std::string(name) + " needs a path");
}

}  // namespace

Invocation parse_invocation(const std::vector<std::string>& args) {
    Invocation out;
    std::vector<std::string> positionals;
    std::string_view scope;    // "" until the command is seen
    bool options_end = false;  // after `--` every argument is an id or a signal
    for (size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        if (arg == "--" && !options_end && !scope.empty()) {
            options_end = true;
            continue;
        }
        if (scope == "exec" && !positionals.empty()) {  // exec ID ARG...: the command's own
            const size_t from = args[i] == "--" && !options_end ? i + 1 : i;
            out.args.assign(args.begin() + static_cast<std::ptrdiff_t>(from), args.end());
            break;
        }
        if (arg.size() > 1 && arg[0] == '-' && !options_end) {
            std::string value;
            bool inline_value = false;
            if (auto equals = arg.find('=');
                arg.rfind("--", 0) == 0 && equals != std::string::npos) {
                value = arg.substr(equals + 1);
                arg.resize(equals);
                inline_value = true;
            }
            const Option* option = find_option(scope, arg);
            if (!option)
                throw UsageError("unrecognized option '" + arg + "'" +
                                 (scope.empty() ? "" : " for " + std::string(scope)));
            if (option->value && !inline_value) {
                if (i + 1 == args.size()) throw UsageError("option '" + arg + "' needs a value");
                value = args[++i];
            } else if (!option->value && inline_value) {
                throw UsageError("option '" + arg + "' takes no value");
            }
            set(out, option->long_name, value);
            continue;
        }
        if (scope.empty() && !out.version && !out.help) {
            static constexpr std::string_view commands[] = {"create", "start", "state",    "kill",
                                                            "delete", "exec",  "features", "run"};
            for (std::string_view command : commands)
                if (arg == command) scope = command;
            if (scope.empty()) throw UsageError("unknown command '" + arg + "'");
            out.command = arg;
            continue;
        }
        positionals.push_back(arg);
    }
    if (out.version || out.help) return out;
    if (out.command.empty())
        throw UsageError(
            "missing command: create, start, run, state, kill, delete, exec or features");
    if (out.command == "features") {
        if (!positionals.empty())
            throw UsageError("features: unexpected argument '" + positionals[0] + "'");
        return out;
    }
    if (out.command == "exec") {
        if (out.process.empty() && out.args.empty())
            throw UsageError("exec: no command: give --process FILE or ARG...");
        if (!out.process.empty() &&
            (!out.args.empty() || !out.cwd.empty() || !out.env.empty() || !out.user.empty()))
            throw UsageError(
                "exec: --process FILE holds the whole process: no ARG, --cwd, --env or --user "
                "beside it");
    }
    const size_t most = out.command == "kill" ? 2 : 1;
    if (positionals.empty()) throw UsageError(out.command + ": missing container id");
    if (positionals.size() > most)
        throw UsageError(out.command + ": unexpected argument '" + positionals[most] + "'");
    out.id = positionals[0];
    check_id(out.id);
    if (positionals.size() == 2) out.signal = parse_signal(positionals[1]);
    return out;
}

void check_id(std::string_view id) {
    const std::string shown(id.substr(0, 64));
    if (id.empty()) throw UsageError("empty container id");
    if (id.size() > 1024) throw UsageError("container id '" + shown + "...' is over 1024 bytes");
    if (id == "." || id == ".." || id.find('/') != std::string_view::npos ||
        id.find('\0') != std::string_view::npos)
        throw UsageError("container id '" + shown + "' is not a name: no '/', NUL, '.' or '..'");
}

int parse_signal(std::string_view text) {
    int number = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error == std::errc() && end == text.data() + text.size()) {
        if (number >= 1 && number < NSIG) return number;
    } else {
        std::string_view name = text;
        if (name.size() > 3 && ::strncasecmp(name.data(), "SIG", 3) == 0) name.remove_prefix(3);
        for (int sig = 1; sig < NSIG; ++sig) {
            const char* abbrev = ::sigabbrev_np(sig);
            if (abbrev && name.size() == std::strlen(abbrev) &&
                ::strncasecmp(name.data(), abbrev, name.size()) == 0)
                return sig;
        }
    }
    throw UsageError("invalid signal '" + std::string(text) + "': a name (TERM, KILL) or 1.." +
                     std::to_string(NSIG - 1));
}

std::string to_json(const Saved& saved) {
    json doc = {{"id", saved.id},         {"bundle", saved.bundle},
                {"pid", saved.pid},       {"start_time", saved.start_time},
                {"cgroup", saved.cgroup}, {"annotations", saved.annotations}};
    return doc.dump() + "\n";
}

Saved from_json(const std::string& text, const std::string& path) {
    const json doc = json::parse(text, nullptr, false);
    Saved saved;
    try {
        if (doc.is_discarded()) throw std::runtime_error("not JSON");
        saved.id = doc.at("id").get<std::string>();
        saved.bundle = doc.at("bundle").get<std::string>();
        saved.pid = doc.at("pid").get<pid_t>();
        saved.start_time = doc.at("start_time").get<std::uint64_t>();
        saved.cgroup = doc.at("cgroup").get<std::string>();
        saved.annotations = doc.at("annotations").get<std::map<std::string, std::string>>();
    } catch (const std::exception& e) {
        throw std::runtime_error(path + ": not a state file of this runtime (" + e.what() + ")");
    }
    return saved;
}

std::string state_json(const Saved& saved, std::string_view status) {
    json doc = {{"ociVersion", oci_version}, {"id", saved.id},
                {"status", status},          {"pid", status == "stopped" ? 0 : saved.pid},
                {"bundle", saved.bundle},    {"annotations", saved.annotations}};
    return doc.dump(2) + "\n";
}

}  // namespace nslab::oci_state

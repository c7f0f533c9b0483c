// Lab 12's given plumbing around the student's part (layers/oci.hpp): the
// command line as runc and crun spell it and podman's conmon calls it, the
// container ids the state directory may hold, signal names, and the state
// file each command reads again. Pure functions, unit-tested without root.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace nslab::oci_state {

inline constexpr const char* default_root = "/run/nslab-oci";
inline constexpr const char* oci_version = "1.0.2";

// runtime [--root DIR] [--log FILE] [--log-format text|json] COMMAND [OPTION]... ID [ARG]...
// (--systemd-cgroup is refused: nslab's cgroups are lab 06's, made through cgroupfs)
struct Invocation {
    std::string root = default_root;  // --root: where each container's state directory is
    std::string log;                  // --log: errors are written there too
    std::string log_format = "text";  // --log-format
    bool version = false;             // --version (or -v)
    bool help = false;
    std::string command;  // create, start, state, kill, delete, exec, features
    std::string id;
    std::string bundle = ".";     // create --bundle (-b)
    std::string pid_file;         // create's and exec's --pid-file
    std::string console_socket;   // create's and exec's --console-socket: where a pty's master goes
    bool timings = false;         // create --timings: each set-up step's time, on stderr
    bool no_new_keyring = false;  // create --no-new-keyring: nslab never makes a keyring
    bool force = false;           // delete --force (-f)
    int signal = 15;              // kill's SIGNAL (default SIGTERM)
    bool all = false;             // kill --all (-a): every process of the container's cgroup
    // exec [--process FILE | --cwd DIR --env K=V... --user UID[:GID] --tty] [--detach] ID [ARG]...
    std::string process;            // --process (-p): the spec's process object, as a file
    std::vector<std::string> args;  // the command, when there is no --process
    std::string cwd, user;
    std::vector<std::string> env;
    bool tty = false;     // --tty (-t): a new pty, its master to --console-socket
    bool detach = false;  // --detach (-d): leave the process to the caller's subreaper
};

// Throws UsageError: an unknown command or option, a missing id.
Invocation parse_invocation(const std::vector<std::string>& args);

// A container id the state directory can hold: 1..1024 bytes, no '/', not
// "." nor "..", no NUL. Throws UsageError naming it.
void check_id(std::string_view id);

// "TERM", "SIGTERM", "sigterm" or "15" -> 15. Throws UsageError naming it.
int parse_signal(std::string_view text);

// What `create` records in ROOT/ID/state.json.
struct Saved {
    std::string id;
    std::string bundle;
    pid_t pid = 0;
    std::uint64_t start_time = 0;  // /proc/PID/stat field 22
    std::string cgroup;            // cgroup::State::path
    std::map<std::string, std::string> annotations;
    bool operator==(const Saved&) const = default;
};
std::string to_json(const Saved& saved);
// Throws std::runtime_error naming `path` when the text is not such a file.
Saved from_json(const std::string& text, const std::string& path);

// The spec's state (runtime.md "State"): ociVersion, id, status, pid,
// bundle, annotations. A stopped container's pid is 0, as runc prints it.
std::string state_json(const Saved& saved, std::string_view status);

}  // namespace nslab::oci_state

// nslab-faults: the reliability tests of issue 10 (docs/reliability.md).
//
// Each test runs the lab executables on a "host" of its own: a private copy
// of this machine's mount namespace (made shared again, as systemd makes /,
// so a mount that leaks out of a container would show), its own /tmp, a
// scratch network namespace (no test touches the real network), and this
// process as the child subreaper, so every process a lab leaves behind is
// re-parented to us and counted. Host-wide things that other people's runs
// also touch (cgroups, address leases) are counted when one of our
// runtimes owns them: their names and records carry the runtime's PID.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "nslab/fd.hpp"

namespace faults {

// Where the lab executables, nslab-tool and the probe are (--bin).
extern std::string bin_dir;
std::string lab_path(int lab);  // bin/labNN_x
std::string probe_in(int lab);  // /bin/probe from lab 02 on, bin/probe before

// Makes this process the host described above. Call once, first. Lab 10's
// layer store (oci::store_root) is a tmpfs of this host's own, so a test may
// empty it (empty_layer_store) and make the next --image run unpack again;
// so is lab 12's state root (oci_state::default_root), which `nslab
// cleanup` sweeps.
void become_scratch_host();
void empty_layer_store();
// The image lab 10's runs may use (the build's podman-saved oci-archive), or
// "" when the build could not make it.
std::string test_image();

// One start of a lab executable: stdin and stdout are pipes we hold (so the
// container's stdin is a pipe too), stderr a memfd read at the end.
struct Launch {
    int lab = 1;
    std::string program;              // instead of lab `lab`'s executable, when given
    std::vector<std::string> args;    // everything after the program name
    bool as_user = false;             // uid and gid 65534, no groups
    bool no_time_namespaces = false;  // the lab sees an empty /proc/self/ns
    std::vector<std::pair<std::string, std::string>> environment{};  // set for the lab
};

class Runtime {
  public:
    explicit Runtime(const Launch& launch);
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;
    ~Runtime();  // SIGKILL and reap, if still running

    pid_t pid() const { return pid_; }
    // Waits (bounded) for a stdout line starting with `prefix`.
    bool wait_for_line(const std::string& prefix, std::chrono::milliseconds limit);
    void signal(int sig) const;
    void close_stdin() { stdin_.reset(); }
    // Exit status (128+n for signal n); -1 when it did not end in time (then killed).
    int wait(std::chrono::milliseconds limit);
    std::string err() const;

  private:
    pid_t pid_ = -1;
    bool reaped_ = false;
    int not_started_ = -1;  // the status when the lab never ran (NotStarted)
    nslab::Fd stdin_, stdout_, stderr_;
    std::string out_;
};

// All of a file (a memfd a lab wrote its output to), from its start.
std::string text_of(const nslab::Fd& file);

// What a run may leave behind, one sorted line per thing.
struct HostState {
    std::set<std::string> mounts;     // /proc/self/mountinfo
    std::set<std::string> links;      // our network namespace, with their bridge
    std::set<std::string> cgroups;    // under /sys/fs/cgroup, named *nslab*
    std::set<std::string> leases;     // /run/nslab/leases
    std::set<std::string> netns;      // /run/netns
    std::set<std::string> tmp;        // our /tmp
    std::set<std::string> images;     // lab 10's container directories (image_store::state_root)
    std::set<std::string> unpacking;  // lab 10's unpackers' temporary directories (oci::store_root)
    std::set<std::string> firewall;   // lab 04's table ip nslab (its rules) and ip_forward
    std::set<std::string> oci;        // lab 12's state root (oci_state::default_root, our own)
    std::set<std::string> hand_overs;  // the cgroup hand-over records (cgroupfs::hand_over_dir)
};
HostState snapshot();

// Waits (bounded) until no process of ours is left and the host is as in
// `before` (cgroups and leases: those that runtimes in `ours` own); reaps
// orphans. Returns what is still different, one line each: the leaks.
// `running`: children of ours that may stay (a container a test keeps).
std::vector<std::string> settle(const HostState& before, const std::set<pid_t>& ours,
                                std::chrono::milliseconds limit = std::chrono::seconds(5),
                                const std::set<pid_t>& running = {});
// SIGKILLs every process still re-parented to us, and reaps it.
void kill_leftovers();
// `nslab-tool cleanup`, as a user runs it after a SIGKILL; its exit status.
int run_cleanup();

// A fixture directory in our /tmp, made before the first snapshot.
std::string fixtures_dir();

// The subcommands; each prints its counts and a last line
// "<name>: N passed, M failed" and returns 0 when nothing failed.
// cleanup false: no `nslab cleanup` after a SIGKILL, the negative control
// (what a killed runtime leaves must then be found: 0 when some leak was).
int leaks(std::uint64_t seed, int rounds, bool cleanup = true);
// The table is read before the scratch host hides /tmp, where a checkout
// (and so tests/faults/bad_inputs.tsv) may sit: read_table, then bad_inputs.
std::string read_table(const std::string& path);
int bad_inputs(const std::string& table, const std::string& text);
int bad_inputs_markdown(const std::string& table);  // the table for docs/reliability.md
int parallel(int containers);
// Lab 12's runtime SIGKILLed at any point, and its caller (conmon) too (oci.cpp).
int oci_faults(std::uint64_t seed, int rounds);

}  // namespace faults

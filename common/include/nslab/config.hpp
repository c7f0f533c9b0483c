// One Config for every lab executable, filled in one place (cli.cpp) and read
// by the layers. Layers never look at argv.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nslab/labs.hpp"

namespace nslab {

struct IdMapEntry {
    std::uint32_t inside = 0;
    std::uint32_t outside = 0;
    std::uint32_t count = 0;
    bool operator==(const IdMapEntry&) const = default;
};

struct Cidr {
    std::uint32_t address = 0;  // host byte order
    int prefix = 0;
    bool operator==(const Cidr&) const = default;
};

enum class NetMode { host, none, bridge };

// --publish HOSTPORT:CONTAINERPORT[/tcp|/udp] (nat_plan::parse_publish).
struct PortMapping {
    std::uint16_t host = 0;
    std::uint16_t container = 0;
    bool udp = false;
    bool operator==(const PortMapping&) const = default;
};

// One resource limit of setrlimit(2) (lab 12: an OCI bundle's process.rlimits).
struct Rlimit {
    std::string name;  // RLIMIT_NOFILE: what messages say
    int resource = 0;
    std::uint64_t soft = 0;
    std::uint64_t hard = 0;
    bool operator==(const Rlimit&) const = default;
};

// One of an OCI bundle's mounts that nslab's own plan does not make (lab 12):
// a bind of a host path, or a tmpfs, attached after pivot_root (oci_mounts.hpp).
struct ExtraMount {
    enum class Kind { bind, tmpfs };
    Kind kind = Kind::bind;
    std::string source;       // bind: the host path; tmpfs: "tmpfs"
    std::string destination;  // absolute, as the container sees it
    bool recursive = false;   // rbind: the mounts below the source come along
    unsigned long flags = 0;  // MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC
    std::string data;         // tmpfs: "size=65536k,mode=755"
    bool copy_up = false;     // tmpfs "tmpcopyup": starts with what it covers
    bool operator==(const ExtraMount&) const = default;
};

// One kernel setting of the container's own namespaces (lab 12: linux.sysctl).
struct Sysctl {
    std::string name;  // "net.ipv4.ip_forward"
    std::string value;
    bool operator==(const Sysctl&) const = default;
};

// One namespace of the config joined by its path (lab 12: linux.namespaces[].path).
struct JoinedNamespace {
    int type = 0;       // CLONE_NEWNET, CLONE_NEWUTS or CLONE_NEWIPC
    std::string path;   // e.g. /run/netns/x, a bind mount of a namespace file
    std::string field;  // "linux.namespaces[2].path", for a refusal
    int fd = -1;        // open once the runtime has checked it (NS_GET_NSTYPE)
    bool operator==(const JoinedNamespace&) const = default;
};

struct Config {
    int lab = 0;                       // which lab executable is running (labs.hpp)
    std::string program;               // e.g. "lab01_pid": the name in every message
    std::string id;                    // short random container id (hostname, cgroup, veth)
    std::vector<std::string> command;  // what runs inside, after `--`
    bool verbose = false;
    bool timings = false;

    // lab 00
    std::vector<pid_t> show_pids;  // 0, 1 or 2 processes to describe

    // lab 01
    std::string pid_file;  // write the container's host PID here (lab 09 reads it)
    bool init = false;     // a tiny PID 1 that reaps and forwards signals

    // lab 02
    std::string rootfs;
    bool rootfs_writable = false;            // else / inside is read-only (always nosuid, nodev)
    std::uint64_t tmpfs_size = 64ULL << 20;  // bytes of /tmp and of /dev/shm inside
    // A tmpfs of its own on /tmp. A bundle (lab 12) has one only when its
    // mounts ask: else its /tmp is the root's, read-only with a read-only
    // root, as runc makes it (podman --read-only --read-only-tmpfs=false).
    bool own_tmp = true;

    // lab 03
    std::string hostname;
    std::string domainname;

    // lab 04
    NetMode net = NetMode::host;
    std::optional<Cidr> ip;
    std::vector<PortMapping> publish;  // host ports forwarded to the container
    std::vector<std::uint32_t> dns;    // --dns: resolv.conf's nameservers (else the host's file)

    // lab 05
    bool userns = false;
    std::vector<IdMapEntry> uid_map;
    std::vector<IdMapEntry> gid_map;

    // lab 06
    std::optional<std::uint64_t> memory;  // bytes
    std::optional<std::uint64_t> pids;
    std::optional<double> cpus;

    // lab 07
    std::int64_t monotonic_offset = 0;  // seconds
    std::int64_t boottime_offset = 0;

    // lab 09
    pid_t target = 0;  // the running container to join

    // lab 10: the image is the rootfs (its lowest layer) and the --layer
    // directories above it, lowest first, as a Dockerfile stacks them.
    std::vector<std::string> layers;
    std::string keep_changes;  // --keep-changes DIR: the upper directory becomes DIR
    std::string image;  // --image PATH: an OCI layout or oci-archive (its layers, lowest first,
                        // go below the --layer directories; oci_image.hpp)
    // What the image's config sets (filled in by the runtime from --image).
    std::vector<std::string> env;  // NAME=VALUE, set before the command runs
    std::string working_dir;       // the command's working directory inside
    std::string user;              // uid[:gid] or name[:group], looked up in the image

    // lab 11: what confines the container (confine.hpp)
    std::vector<std::string> cap_add;   // --cap-add NAME|ALL, in order, checked names
    std::vector<std::string> cap_drop;  // --cap-drop NAME|ALL
    bool no_new_privs = true;           // --no-new-privs=false turns it off
    bool seccomp = true;                // --seccomp unconfined turns the filter off
    std::string seccomp_profile;        // --seccomp FILE: Docker's JSON instead of the default
    std::string seccomp_profile_text;   // FILE's text, read before the container exists

    // lab 12: an OCI bundle's config.json fills the fields above (oci_config.hpp), and
    std::vector<Rlimit> rlimits;         // process.rlimits, set before the capabilities drop
    std::vector<ExtraMount> mounts;      // mounts' binds and tmpfs, in the config's order
    std::vector<Sysctl> sysctls;         // linux.sysctl, written in the container's /proc/sys
    std::optional<unsigned> umask;       // process.user.umask
    std::vector<gid_t> additional_gids;  // process.user.additionalGids (setgroups(2))
    std::optional<int> oom_score_adj;    // process.oomScoreAdj
    // linux.maskedPaths and readonlyPaths; unset: Docker's (lab 11's own)
    std::optional<std::vector<std::string>> masked_paths;
    std::optional<std::vector<std::string>> read_only_paths;
    int exec_fifo = -1;  // `create`: the set-up child waits on this FIFO (an O_PATH fd) until
                         // `start` opens it; -1: it runs at once (layers/oci.hpp)
    // process.terminal: a new pty from the container's devpts, its replica the
    // command's stdio; the master goes to console_socket (console.hpp)
    bool terminal = false;
    std::optional<std::pair<unsigned, unsigned>> console_size;  // process.consoleSize: rows, cols
    int console_socket = -1;  // `create --console-socket`: a connected unix socket
    // linux.namespaces[].path: a namespace joined (setns(2)) instead of made
    std::vector<JoinedNamespace> joined;

    // Is this layer part of the running lab? (a join lab builds nothing.)
    bool has(Layer layer) const { return lab_has(lab, layer); }
    // Does the container get a user namespace? (lab 05's layer, with --userns)
    bool makes_userns() const { return has(Layer::user) && userns; }
    // Is the namespace of this type joined by path rather than made? (lab 12)
    bool joins(int type) const {
        for (const JoinedNamespace& ns : joined)
            if (ns.type == type) return true;
        return false;
    }
};

}  // namespace nslab

// Lab 04's bookkeeping on the host: address leases and cleanup.
//
// Every container on the bridge needs its own address, and several runtimes
// may start at once. Each address in use is a file /run/nslab/leases/<ip>
// naming its owner; a runtime takes one with link(2), which fails with
// EEXIST when another runtime was first, so no two get the same address and
// no lock is needed. A killed runtime leaves its lease behind:
// cleanup_stale() (`nslab cleanup`) removes leases whose owner is gone.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/config.hpp"
#include "nslab/fd.hpp"

namespace nslab::net {

inline constexpr const char* run_dir = "/run/nslab";
inline constexpr const char* lease_dir = "/run/nslab/leases";
inline constexpr const char* files_dir = "/run/nslab/files";  // <id>/hosts, <id>/resolv.conf

// An address lease, released (file removed) when the object ends in the
// process that took it.
class Lease {
  public:
    Lease() = default;
    // The wanted address, or the lowest free one of the subnet. Throws
    // UsageError when `wanted` does not fit the subnet (a bad --ip) and
    // std::runtime_error when it is taken or the subnet is full.
    static Lease take(const std::string& dir, const Cidr& subnet, std::optional<Cidr> wanted,
                      const std::string& veth);
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }

    explicit operator bool() const { return !path_.empty(); }
    const Cidr& address() const { return address_; }  // with the subnet's prefix
    const Cidr& gateway() const { return gateway_; }  // the bridge's address
    const std::string& path() const { return path_; }
    void release();

  private:
    std::string path_;
    pid_t owner_ = 0;
    Cidr address_{}, gateway_{};
};

// The layer is on and the container is on the bridge (--net bridge).
bool bridged(const Config& cfg);

// When process `pid` started (/proc/PID/stat, field 22), nothing when it is
// gone or a zombie: a PID with its start time names one process, even after
// PID reuse.
// Lease files and lab 10's container directories record their runtime so.
std::optional<unsigned long long> start_time_of(pid_t pid);
// "pid=N start=T\n", the record of process `pid` an owner file holds (lab
// 10's container directories, lab 12's cgroup hand-over), and whether the
// process a record names still runs.
std::string owner_record(pid_t pid);
bool owner_alive(std::string_view record);

// The lease for this container: --ip or the next free address of the subnet
// ($NSLAB_SUBNET or 10.88.0.0/16) in /run/nslab/leases.
Lease take_lease(const Config& cfg);

// flock(2) on /run/nslab/net.lock: runtimes hold it shared while they make
// the bridge and plug into it, cleanup_stale() exclusive, so cleanup never
// removes a bridge that a starting container is about to join.
class HostLock {
  public:
    enum class Mode { shared, exclusive };
    explicit HostLock(Mode mode);

  private:
    Fd fd_;
};

// What a killed runtime leaves, in the caller's network namespace and in
// /run/nslab/leases: leases whose owner is gone, host veths (nsv*) without a
// live lease, and the bridge nslab0 when no port is left on it. Returns one
// line per thing removed, for `nslab cleanup` to print.
std::vector<std::string> cleanup_stale();

}  // namespace nslab::net

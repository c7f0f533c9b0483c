// Lab 11's given plumbing besides the capabilities (capabilities.hpp): the
// paths Docker masks and makes read-only, and a seccomp filter built with
// libseccomp (seccomp_init(3), seccomp_rule_add(3), seccomp_load(3)) that
// denies, with EPERM, what Docker's default profile denies. What the
// student writes is in confine.cpp: the masked-path binds, one rule of the
// filter, and the order of the drops.
#pragma once

#include <seccomp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nslab/capabilities.hpp"
#include "nslab/config.hpp"

namespace nslab::confine_plan {

// Docker's masked paths (moby's oci/defaults.go): a file is hidden under
// /dev/null, a directory under an empty read-only tmpfs.
const std::vector<std::string>& masked_paths();
// Docker's read-only paths: each bound on itself, then read-only.
const std::vector<std::string>& read_only_paths();
// The container's own: an OCI bundle's linux.maskedPaths and readonlyPaths
// when it gave them (lab 12), else Docker's above.
const std::vector<std::string>& masked_paths(const Config& cfg);
const std::vector<std::string>& read_only_paths(const Config& cfg);
// Remounts the bind mount at `path` read-only, keeping the flags the kernel
// may have locked on it (a user namespace may add restrictions, never lift one).
void remount_read_only(const std::string& path);

// One denied system call: EPERM (clone3: ENOSYS, so the C library falls
// back to clone, whose flags a filter can see), unless the container's
// capability set holds `unless` (-1: always), as Docker's profile allows
// mount with CAP_SYS_ADMIN.
struct Denied {
    const char* name;
    int unless;
    int error;
};
const std::vector<Denied>& denied_syscalls();

// A filter whose default is to allow: each rule says what to refuse. The
// filter checks the architecture first: a system call of another ABI
// (int 0x80, x32) kills the process, so no other numbering slips past.
// A seccomp profile in Docker's JSON format (docker run --security-opt
// seccomp=FILE): defaultAction, then syscalls[] of {names, action,
// errnoRet, args[] of {index, value, valueTwo, op}}. Read and checked
// whole before the container exists.
struct Profile {
    struct Rule {
        std::vector<int> syscalls;  // resolved numbers, this architecture's
        std::uint32_t action = 0;   // SCMP_ACT_*
        std::vector<scmp_arg_cmp> args;
    };
    std::uint32_t default_action = 0;
    std::vector<Rule> rules;
    // The ABIs the filter takes besides this machine's own (SCMP_ARCH_*
    // tokens): the OCI spec's `architectures`, or the subArchitectures of
    // this machine's entry of Docker's `archMap`. Their calls meet the same
    // rules (libseccomp translates each by name); any other ABI is killed.
    std::vector<std::uint32_t> architectures;
};
// The profile in `text` (read from `path`): UsageError naming the file and
// what is wrong with it (not JSON, an unknown action, op or system call).
Profile parse_profile(const std::string& path, const std::string& text);
// The text of `path`: UsageError naming it when it cannot be read.
std::string read_profile(const std::string& path);
// The action and op names a profile may use (lab 12's `features`).
std::vector<std::string> seccomp_action_names();
std::vector<std::string> seccomp_operator_names();

class Filter {
  public:
    // The filter for a container holding `caps`: every denied_syscalls()
    // entry whose capability it lacks.
    explicit Filter(const std::vector<caps::Cap>& caps);
    // The filter a profile says, and nothing else.
    explicit Filter(const Profile& profile);
    Filter(const Filter&) = delete;
    Filter& operator=(const Filter&) = delete;
    ~Filter();
    // Adds a rule: system call `syscall` (SCMP_SYS(name)) fails with
    // `error` when every comparison of `args` holds (none: always).
    void deny(int syscall, int error, const std::vector<scmp_arg_cmp>& args = {});
    // Installs it on this thread (seccomp(2)): needs no_new_privs or
    // CAP_SYS_ADMIN; from then on every later exec keeps it.
    void load() const;
    // The rules, as libseccomp would write them (seccomp_export_pfc(3)):
    // for --verbose and the unit tests.
    std::string text() const;

  private:
    explicit Filter(std::uint32_t default_action);
    scmp_filter_ctx ctx_;
};

}  // namespace nslab::confine_plan

#include "nslab/confine_plan.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "nslab/errors.hpp"
#include "nslab/sys.hpp"

namespace nslab::confine_plan {

const std::vector<std::string>& masked_paths() {
    static const std::vector<std::string> paths = {
        "/proc/acpi",        "/proc/kcore",
        "/proc/keys",        "/proc/latency_stats",
        "/proc/timer_list",  "/proc/timer_stats",
        "/proc/sched_debug", "/proc/scsi",
        "/sys/firmware",     "/sys/devices/virtual/powercap"};
    return paths;
}

const std::vector<std::string>& read_only_paths() {
    static const std::vector<std::string> paths = {"/proc/bus", "/proc/fs", "/proc/irq",
                                                   "/proc/sys", "/proc/sysrq-trigger"};
    return paths;
}

const std::vector<std::string>& masked_paths(const Config& cfg) {
    return cfg.masked_paths ? *cfg.masked_paths : masked_paths();
}

const std::vector<std::string>& read_only_paths(const Config& cfg) {
    return cfg.read_only_paths ? *cfg.read_only_paths : read_only_paths();
}

void remount_read_only(const std::string& path) {
    struct statvfs st {};
    sys::check(::statvfs(path.c_str(), &st), "statvfs(" + path + ")");
    const unsigned long kept =
        st.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
    sys::mount("", path, "", MS_REMOUNT | MS_BIND | MS_RDONLY | kept);
}

const std::vector<Denied>& denied_syscalls() {
    // Docker's default profile (moby's profiles/seccomp/default.json) lists
    // what it allows; these are the calls it leaves out, or allows only
    // with a capability. ptrace is allowed there on kernels from 4.8 on.
    static const std::vector<Denied> table = {
        {"open_by_handle_at", CAP_DAC_READ_SEARCH, EPERM},
        {"name_to_handle_at", CAP_DAC_READ_SEARCH, EPERM},
        {"mount", CAP_SYS_ADMIN, EPERM},
        {"umount2", CAP_SYS_ADMIN, EPERM},
        {"fsopen", CAP_SYS_ADMIN, EPERM},
        {"fsconfig", CAP_SYS_ADMIN, EPERM},
        {"fsmount", CAP_SYS_ADMIN, EPERM},
        {"fspick", CAP_SYS_ADMIN, EPERM},
        {"move_mount", CAP_SYS_ADMIN, EPERM},
        {"open_tree", CAP_SYS_ADMIN, EPERM},
        {"mount_setattr", CAP_SYS_ADMIN, EPERM},
        {"pivot_root", CAP_SYS_ADMIN, EPERM},
        {"unshare", CAP_SYS_ADMIN, EPERM},
        {"setns", CAP_SYS_ADMIN, EPERM},
        {"clone3", CAP_SYS_ADMIN, ENOSYS},
        {"bpf", CAP_SYS_ADMIN, EPERM},
        {"perf_event_open", CAP_SYS_ADMIN, EPERM},
        {"lookup_dcookie", CAP_SYS_ADMIN, EPERM},
        {"quotactl", CAP_SYS_ADMIN, EPERM},
        {"swapon", CAP_SYS_ADMIN, EPERM},
        {"swapoff", CAP_SYS_ADMIN, EPERM},
        {"keyctl", -1, EPERM},
        {"add_key", -1, EPERM},
        {"request_key", -1, EPERM},
        {"userfaultfd", -1, EPERM},
        {"kexec_load", CAP_SYS_BOOT, EPERM},
        {"kexec_file_load", CAP_SYS_BOOT, EPERM},
        {"reboot", CAP_SYS_BOOT, EPERM},
        {"init_module", CAP_SYS_MODULE, EPERM},
        {"finit_module", CAP_SYS_MODULE, EPERM},
        {"delete_module", CAP_SYS_MODULE, EPERM},
        {"acct", CAP_SYS_PACCT, EPERM},
        {"iopl", CAP_SYS_RAWIO, EPERM},
        {"ioperm", CAP_SYS_RAWIO, EPERM},
        {"settimeofday", CAP_SYS_TIME, EPERM},
        {"clock_settime", CAP_SYS_TIME, EPERM},
        {"clock_adjtime", CAP_SYS_TIME, EPERM},
        {"adjtimex", CAP_SYS_TIME, EPERM},
        {"kcmp", CAP_SYS_PTRACE, EPERM},
        {"process_vm_readv", CAP_SYS_PTRACE, EPERM},
        {"process_vm_writev", CAP_SYS_PTRACE, EPERM},
        {"uselib", -1, EPERM},
        {"_sysctl", -1, EPERM},
        {"ustat", -1, EPERM},
        {"sysfs", -1, EPERM},
        {"nfsservctl", -1, EPERM},
    };
    return table;
}

namespace {

void check_rc(int rc, const std::string& what) {
    if (rc < 0) sys::fail(what, -rc);  // libseccomp returns -errno
}

}  // namespace

Filter::Filter(std::uint32_t default_action) : ctx_(seccomp_init(default_action)) {
    if (!ctx_) throw std::runtime_error("seccomp_init() failed");
    check_rc(seccomp_attr_set(ctx_, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
             "seccomp_attr_set(SCMP_FLTATR_ACT_BADARCH)");
    // libseccomp sets no_new_privs itself before loading, unless told not
    // to: here that is the layer's own step, in its own place.
    check_rc(seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_NNP, 0),
             "seccomp_attr_set(SCMP_FLTATR_CTL_NNP)");
    // The kernel's own errno (EACCES) on a refused load, not ECANCELED.
    check_rc(seccomp_attr_set(ctx_, SCMP_FLTATR_API_SYSRAWRC, 1),
             "seccomp_attr_set(SCMP_FLTATR_API_SYSRAWRC)");
}

Filter::Filter(const std::vector<caps::Cap>& caps) : Filter(SCMP_ACT_ALLOW) {
    for (const Denied& call : denied_syscalls()) {
        if (call.unless >= 0 && caps::contains(caps, call.unless)) continue;
        const int number = seccomp_syscall_resolve_name(call.name);
        if (number == __NR_SCMP_ERROR) continue;  // not on this architecture
        deny(number, call.error);
    }
}

Filter::Filter(const Profile& profile) : Filter(profile.default_action) {
    for (std::uint32_t arch : profile.architectures) {  // before the rules: they cover each
        const int rc = seccomp_arch_add(ctx_, arch);
        if (rc != -EEXIST) check_rc(rc, "seccomp_arch_add(" + std::to_string(arch) + ")");
    }
    for (const Profile::Rule& rule : profile.rules) {
        if (rule.action == profile.default_action) continue;  // libseccomp refuses those
        for (int syscall : rule.syscalls)
            check_rc(
                seccomp_rule_add_array(ctx_, rule.action, syscall,
                                       static_cast<unsigned>(rule.args.size()), rule.args.data()),
                "seccomp_rule_add(" + std::to_string(syscall) + ")");
    }
}

namespace {

// Docker's action names: one table for the reader and for `features`
// (SCMP_ACT_ERRNO's errno is the rule's own, added in action_of).
constexpr std::pair<const char*, std::uint32_t> actions[] = {
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG}};

std::uint32_t action_of(const std::string& file, const std::string& name, int error) {
    if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(static_cast<unsigned>(error));
    std::string known;
    for (const auto& [text, action] : actions) {
        if (name == text) return action;
        known += std::string(known.empty() ? "" : ", ") + text;
    }
    throw UsageError("--seccomp " + file + ": unknown action '" + name + "' (" + known + ")");
}

constexpr std::pair<const char*, scmp_compare> ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
                                                        {"SCMP_CMP_LT", SCMP_CMP_LT},
                                                        {"SCMP_CMP_LE", SCMP_CMP_LE},
                                                        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
                                                        {"SCMP_CMP_GE", SCMP_CMP_GE},
                                                        {"SCMP_CMP_GT", SCMP_CMP_GT},
                                                        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};

scmp_compare op_of(const std::string& file, const std::string& name) {
    for (const auto& [text, op] : ops)
        if (name == text) return op;
    throw UsageError("--seccomp " + file + ": unknown op '" + name + "'");
}

}  // namespace

std::vector<std::string> seccomp_action_names() {
    std::vector<std::string> names;
    for (const auto& [text, action] : actions) names.emplace_back(text);
    return names;
}

std::vector<std::string> seccomp_operator_names() {
    std::vector<std::string> names;
    for (const auto& [text, op] : ops) names.emplace_back(text);
    return names;
}

std::string read_profile(const std::string& path) {
    try {
        return sys::read_file(path);
    } catch (const std::system_error& e) {
        throw UsageError("--seccomp " + path + ": " + e.code().message());
    }
}

Profile parse_profile(const std::string& path, const std::string& text) {
    const std::string what = "--seccomp " + path;
    Profile profile;
    try {
        const nlohmann::json json = nlohmann::json::parse(text);
        profile.default_action = action_of(path, json.at("defaultAction").get<std::string>(),
                                           json.value("defaultErrnoRet", EPERM));
        // SCMP_ARCH_X86_64 -> libseccomp's "x86_64".
        auto token_of = [](const nlohmann::json& name) {
            std::string text = name.get<std::string>();
            if (text.rfind("SCMP_ARCH_", 0) == 0) text.erase(0, 10);
            std::transform(text.begin(), text.end(), text.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            return seccomp_arch_resolve_name(text.c_str());  // 0: libseccomp knows no such one
        };
        auto arch_of = [&](const nlohmann::json& name) {
            const std::uint32_t token = token_of(name);
            if (token == 0)
                throw UsageError(what + ": unknown architecture '" + name.get<std::string>() + "'");
            return token;
        };
        for (const nlohmann::json& name : json.value("architectures", nlohmann::json::array()))
            profile.architectures.push_back(arch_of(name));
        for (const nlohmann::json& entry : json.value("archMap", nlohmann::json::array())) {
            if (token_of(entry.at("architecture")) != seccomp_arch_native()) continue;
            for (const nlohmann::json& name :
                 entry.value("subArchitectures", nlohmann::json::array()))
                profile.architectures.push_back(arch_of(name));
        }
        for (const nlohmann::json& entry : json.value("syscalls", nlohmann::json::array())) {
            Profile::Rule rule;
            rule.action = action_of(path, entry.at("action").get<std::string>(),
                                    entry.value("errnoRet", EPERM));
            for (const nlohmann::json& name : entry.at("names")) {
                const std::string call = name.get<std::string>();
                const int number = seccomp_syscall_resolve_name(call.c_str());
                if (number == __NR_SCMP_ERROR)
                    throw UsageError(what + ": unknown system call '" + call + "'");
                rule.syscalls.push_back(number);
            }
            for (const nlohmann::json& arg : entry.value("args", nlohmann::json::array()))
                rule.args.push_back({arg.at("index").get<unsigned>(),
                                     op_of(path, arg.at("op").get<std::string>()),
                                     arg.at("value").get<std::uint64_t>(),
                                     arg.value("valueTwo", std::uint64_t{0})});
            profile.rules.push_back(std::move(rule));
        }
    } catch (const nlohmann::json::exception& e) {
        throw UsageError(what + ": not a seccomp profile (" + e.what() + ")");
    }
    return profile;
}

Filter::~Filter() {
    seccomp_release(ctx_);
}

void Filter::deny(int syscall, int error, const std::vector<scmp_arg_cmp>& args) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, syscall);
    const std::string what = std::string("seccomp_rule_add(") + (name ? name : "?") + ")";
    std::free(name);
    check_rc(seccomp_rule_add_array(ctx_, SCMP_ACT_ERRNO(static_cast<unsigned>(error)), syscall,
                                    static_cast<unsigned>(args.size()), args.data()),
             what);
}

void Filter::load() const {
    check_rc(seccomp_load(ctx_), "seccomp_load()");
}

std::string Filter::text() const {
    int fd = ::memfd_create("seccomp-pfc", MFD_CLOEXEC);
    if (fd < 0) sys::fail("memfd_create()");
    Fd file(fd);
    check_rc(seccomp_export_pfc(ctx_, fd), "seccomp_export_pfc()");
    return sys::read_file("/proc/self/fd/" + std::to_string(fd));
}

}  // namespace nslab::confine_plan

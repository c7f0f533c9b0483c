#include "nslab/oci_config.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <utility>

#include "nslab/capabilities.hpp"
#include "nslab/confine_plan.hpp"
#include "nslab/errors.hpp"
#include "nslab/parse.hpp"

namespace nslab::oci_config {

namespace {

using nlohmann::json;

// The reader's schema: each object's fields the spec defines, and what
// becomes of them. A defined field that is absent here is refused; one
// the spec does not define is a vendor's, set aside.
constexpr std::array<std::string_view, 8> top_fields = {
    "ociVersion", "root", "mounts", "process", "hostname", "domainname", "linux", "annotations"};
constexpr std::array<std::string_view, 5> top_refused = {"hooks", "solaris", "windows", "vm",
                                                         "zos"};
constexpr std::array<std::string_view, 10> process_fields = {
    "terminal",        "user",        "args",       "env", "cwd", "capabilities", "rlimits",
    "noNewPrivileges", "consoleSize", "oomScoreAdj"};
constexpr std::array<std::string_view, 7> process_refused = {
    "commandLine", "apparmorProfile", "selinuxLabel", "scheduler",
    "ioPriority",  "execCPUAffinity", "personality"};
constexpr std::array<std::string_view, 10> linux_fields = {
    "namespaces",  "uidMappings",   "gidMappings",       "resources", "cgroupsPath",
    "maskedPaths", "readonlyPaths", "rootfsPropagation", "seccomp",   "sysctl"};
constexpr std::array<std::string_view, 7> linux_refused = {
    "devices",     "mountLabel",   "intelRdt",  "personality",
    "timeOffsets", "memoryPolicy", "netDevices"};

template <size_t N>
bool among(const std::array<std::string_view, N>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

bool empty_value(const json& value) {
    return value.is_null() ||
           ((value.is_object() || value.is_array() || value.is_string()) && value.empty());
}

// Every field of `object` either read, refused by name, or a vendor's.
template <size_t N, size_t M>
void check_fields(const json& object, const std::string& prefix,
                  const std::array<std::string_view, N>& read,
                  const std::array<std::string_view, M>& refused) {
    for (const auto& [name, value] : object.items()) {
        if (among(read, name)) continue;
        if (among(refused, name) && !empty_value(value))
            throw Refused(prefix + name, "nslab cannot honour it (not supported)");
    }
}

const json& need(const json& object, const std::string& field, const char* key,
                 json::value_t type) {
    if (!object.contains(key)) throw Refused(field, "missing");
    const json& value = object[key];
    const bool ok =
        type == json::value_t::number_unsigned ? value.is_number_unsigned() : value.type() == type;
    if (!ok) throw Refused(field, std::string("expected a ") + json(type).type_name());
    return value;
}

std::string text_of(const json& value, const std::string& field) {
    if (!value.is_string()) throw Refused(field, "expected a string");
    return value.get<std::string>();
}

std::vector<std::string> strings_of(const json& value, const std::string& field) {
    if (!value.is_array()) throw Refused(field, "expected an array of strings");
    std::vector<std::string> out;
    for (size_t i = 0; i < value.size(); ++i)
        out.push_back(text_of(value[i], field + "[" + std::to_string(i) + "]"));
    return out;
}

std::uint64_t unsigned_of(const json& value, const std::string& field) {
    if (!value.is_number_unsigned()) throw Refused(field, "expected a number >= 0");
    return value.get<std::uint64_t>();
}

void read_root(const json& doc, const std::string& bundle_dir, Config& cfg) {
    const json& root = need(doc, "root", "root", json::value_t::object);
    std::string path = text_of(need(root, "root.path", "path", json::value_t::string), "root.path");
    if (path.empty()) throw Refused("root.path", "empty");
    cfg.rootfs = path.front() == '/' ? path : bundle_dir + "/" + path;
    cfg.rootfs_writable = !(root.contains("readonly") && root["readonly"].is_boolean() &&
                            root["readonly"].get<bool>());
}

// A mount's options: the flags nslab applies, the file-system data it
// passes on, what tmpfs copies up. An option nslab cannot honour (shared
// propagation, id-mapped mounts) is refused by name.
struct Options {
    unsigned long flags = 0;
    bool bind = false, recursive = false, copy_up = false;
    std::string data;
};

// The mount options read: flags, the defaults or times of access (nothing
// to confine), the rest by name; `features` lists them all.
constexpr std::pair<std::string_view, unsigned long> flag_mount_options[] = {
    {"ro", MS_RDONLY}, {"nosuid", MS_NOSUID}, {"nodev", MS_NODEV}, {"noexec", MS_NOEXEC}};
const std::set<std::string_view> plain_mount_options = {
    "rw",         "suid",       "dev",         "exec",          "private", "rprivate",
    "relatime",   "norelatime", "strictatime", "nostrictatime", "noatime", "atime",
    "nodiratime", "diratime",   "async",       "defaults"};
constexpr std::string_view other_mount_options[] = {"bind", "rbind", "tmpcopyup", "newinstance"};
// The namespaces a config may list (never time: lab 12 makes none).
const std::set<std::string> namespace_types = {"pid", "network", "mount", "ipc",
                                               "uts", "user",    "cgroup"};

Options options_of(const json& mount, const std::string& field) {
    Options out;
    if (!mount.contains("options")) return out;
    const std::vector<std::string> options = strings_of(mount["options"], field + ".options");
    for (const std::string& option : options) {
        bool known = plain_mount_options.count(option) > 0;
        for (const auto& [name, flag] : flag_mount_options)
            if (option == name) out.flags |= flag, known = true;
        if (option == "bind" || option == "rbind") {
            out.bind = known = true;
            out.recursive = out.recursive || option == "rbind";
        } else if (option == "tmpcopyup") {
            out.copy_up = known = true;
        } else if (option.find('=') != std::string::npos &&
                   (option.rfind("size=", 0) == 0 || option.rfind("mode=", 0) == 0 ||
                    option.rfind("nr_inodes=", 0) == 0 || option.rfind("uid=", 0) == 0 ||
                    option.rfind("gid=", 0) == 0 || option.rfind("ptmxmode=", 0) == 0)) {
            out.data += (out.data.empty() ? "" : ",") + option;
            known = true;
        } else if (option == "newinstance") {
            known = true;  // devpts: nslab's is always a new instance
        }
        if (!known)
            throw Refused(field + ".options", option + ": nslab cannot honour this mount option");
    }
    return out;
}

// The mounts nslab makes itself (labs 02, 06, 08) a config may ask for at
// their usual places; besides those, binds of host paths and tmpfs
// anywhere but /proc (lab 11's masks live there). `exists` says whether a
// bind's source is there: a missing one is refused now, not in the child.
void read_mounts(const json& doc, Config& cfg,
                 const std::function<bool(const std::string&)>& exists) {
    cfg.own_tmp = false;  // only when asked, below
    if (!doc.contains("mounts")) return;
    const json& mounts = doc["mounts"];
    if (!mounts.is_array()) throw Refused("mounts", "expected an array");
    // nslab's own, and whether it is read-only there.
    static const std::map<std::pair<std::string, std::string>, bool> made = {
        {{"/proc", "proc"}, false},
        {{"/dev", "tmpfs"}, false},
        {{"/dev/pts", "devpts"}, false},
        {{"/dev/shm", "tmpfs"}, false},
        {{"/dev/mqueue", "mqueue"}, false},
        {{"/sys", "sysfs"}, true},
        {{"/sys/fs/cgroup", "cgroup"}, true},
        {{"/sys/fs/cgroup", "cgroup2"}, true},
        {{"/tmp", "tmpfs"}, false}};
    for (size_t i = 0; i < mounts.size(); ++i) {
        const std::string field = "mounts[" + std::to_string(i) + "]";
        const json& mount = mounts[i];
        if (!mount.is_object()) throw Refused(field, "expected an object");
        const std::string destination =
            text_of(need(mount, field + ".destination", "destination", json::value_t::string),
                    field + ".destination");
        if (destination.empty() || destination.front() != '/' ||
            destination.find("/..") != std::string::npos ||
            destination.find("//") != std::string::npos)
            throw Refused(field + ".destination", destination + ": not a plain absolute path");
        const Options options = options_of(mount, field);
        std::string type = mount.contains("type") ? text_of(mount["type"], field + ".type") : "";
        if (type.empty() || type == "none") type = options.bind ? "bind" : type;
        if (const auto own = made.find({destination, type}); own != made.end()) {
            if ((options.flags & MS_RDONLY) && !own->second)
                throw Refused(field + ".options", destination + " ro: nslab's is read-write");
            if (destination == "/tmp") cfg.own_tmp = true;
            continue;
        }
        if (type != "bind" && type != "tmpfs")
            throw Refused(field, destination + " (" + type +
                                     "): nslab makes only the mounts of labs 02, 06 and 08, "
                                     "binds and tmpfs");
        if (destination == "/proc" || destination.rfind("/proc/", 0) == 0)
            throw Refused(field + ".destination",
                          destination + ": nothing is mounted over /proc (lab 11's masks)");
        ExtraMount extra;
        extra.destination = destination;
        extra.flags = options.flags;
        if (type == "bind") {
            extra.kind = ExtraMount::Kind::bind;
            extra.source = text_of(need(mount, field + ".source", "source", json::value_t::string),
                                   field + ".source");
            if (extra.source.empty() || extra.source.front() != '/')
                throw Refused(field + ".source", extra.source + ": must be an absolute host path");
            if (!exists(extra.source))
                throw Refused(field + ".source", extra.source + ": no such file or directory");
            extra.recursive = options.recursive;
            if (options.copy_up || !options.data.empty())
                throw Refused(field + ".options", "tmpcopyup, size= and mode= are tmpfs options");
        } else {
            extra.kind = ExtraMount::Kind::tmpfs;
            extra.source = "tmpfs";
            extra.data = options.data;
            extra.copy_up = options.copy_up;
            if (extra.copy_up && (extra.flags & MS_RDONLY))
                throw Refused(field + ".options", "tmpcopyup on a read-only tmpfs");
        }
        cfg.mounts.push_back(extra);
    }
}

int rlimit_resource(const std::string& name, const std::string& field) {
    static const std::pair<std::string_view, int> table[] = {
        {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},
        {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
    };
    for (const auto& [known, resource] : table)
        if (known == name) return resource;
    throw Refused(field, "unknown resource limit " + name);
}

// Lab 11's set is one set, the bounding set: what the command holds after
// its execve(2), as root (all of the bounding set) or not (none of it,
// without file capabilities), whatever effective and permitted held before
// (capabilities(7), "Transformation of capabilities during execve()").
// So effective and permitted need only lie within it (podman empties them
// for --user 1000); inheritable and ambient stay empty (fewer privileges,
// never more).
void read_capabilities(const json& process, Config& cfg) {
    cfg.cap_drop = {"ALL"};
    if (!process.contains("capabilities")) return;
    const json& sets = process["capabilities"];
    if (!sets.is_object()) throw Refused("process.capabilities", "expected an object");
    auto set_of = [&](const char* name) {
        const std::string field = std::string("process.capabilities.") + name;
        std::set<caps::Cap> set;
        if (!sets.contains(name)) return set;
        for (const auto& cap : strings_of(sets[name], field)) {
            try {
                set.insert(caps::from_name(field, cap));
            } catch (const UsageError& e) {
                throw Refused(field, "unknown capability " + cap);
            }
        }
        return set;
    };
    const std::set<caps::Cap> bounding = set_of("bounding");
    for (const char* other : {"effective", "permitted"})
        for (caps::Cap cap : set_of(other))
            if (!bounding.count(cap))
                throw Refused(std::string("process.capabilities.") + other,
                              caps::name_of(cap) +
                                  " is not in bounding; nslab gives one set "
                                  "(lab 11)");
    set_of("inheritable");  // checked names; lab 11 leaves both sets empty
    set_of("ambient");
    for (caps::Cap cap : bounding) cfg.cap_add.push_back(caps::name_of(cap));
}

void read_process(const json& doc, Config& cfg) {
    const json& process = need(doc, "process", "process", json::value_t::object);
    check_fields(process, "process.", process_fields, process_refused);
    // A pty of the container's own devpts becomes the command's terminal;
    // create sends its master to --console-socket (console.hpp).
    if (process.contains("terminal")) {
        if (!process["terminal"].is_boolean())
            throw Refused("process.terminal", "expected true or false");
        cfg.terminal = process["terminal"].get<bool>();
    }
    if (process.contains("consoleSize") && !empty_value(process["consoleSize"])) {
        const json& size = process["consoleSize"];
        if (!size.is_object()) throw Refused("process.consoleSize", "expected an object");
        auto side = [&](const char* key) {
            const std::string field = std::string("process.consoleSize.") + key;
            const std::uint64_t value =
                unsigned_of(need(size, field, key, json::value_t::number_unsigned), field);
            if (value > 0xffff) throw Refused(field, "above 65535");
            return static_cast<unsigned>(value);
        };
        cfg.console_size = std::pair{side("height"), side("width")};
    }
    cfg.command =
        strings_of(need(process, "process.args", "args", json::value_t::array), "process.args");
    if (cfg.command.empty()) throw Refused("process.args", "empty: nothing to run");
    if (process.contains("env")) cfg.env = strings_of(process["env"], "process.env");
    cfg.working_dir =
        text_of(need(process, "process.cwd", "cwd", json::value_t::string), "process.cwd");
    if (cfg.working_dir.empty() || cfg.working_dir.front() != '/')
        throw Refused("process.cwd", "must be an absolute path");
    if (process.contains("user")) {
        const json& user = process["user"];
        if (!user.is_object()) throw Refused("process.user", "expected an object");
        if (user.contains("username") && !empty_value(user["username"]))
            throw Refused("process.user.username", "nslab cannot honour it (not supported)");
        if (user.contains("umask")) {
            const std::uint64_t umask = unsigned_of(user["umask"], "process.user.umask");
            if (umask > 0777) throw Refused("process.user.umask", "above 0777");
            cfg.umask = static_cast<unsigned>(umask);
        }
        if (user.contains("additionalGids")) {
            const json& gids = user["additionalGids"];
            if (!gids.is_array()) throw Refused("process.user.additionalGids", "expected an array");
            for (size_t i = 0; i < gids.size(); ++i) {
                const std::string at = "process.user.additionalGids[" + std::to_string(i) + "]";
                const std::uint64_t gid = unsigned_of(gids[i], at);
                if (gid > 0xfffffffeULL) throw Refused(at, "above 2^32-2");
                cfg.additional_gids.push_back(static_cast<gid_t>(gid));
            }
        }
        const std::uint64_t uid =
            unsigned_of(need(user, "process.user.uid", "uid", json::value_t::number_unsigned),
                        "process.user.uid");
        const std::uint64_t gid =
            unsigned_of(need(user, "process.user.gid", "gid", json::value_t::number_unsigned),
                        "process.user.gid");
        // Root keeps the runtime's ids, unless it is given groups of its own.
        if (uid != 0 || gid != 0 || !cfg.additional_gids.empty())
            cfg.user = std::to_string(uid) + ":" + std::to_string(gid);
    }
    read_capabilities(process, cfg);
    if (process.contains("noNewPrivileges")) {
        if (!process["noNewPrivileges"].is_boolean())
            throw Refused("process.noNewPrivileges", "expected true or false");
        cfg.no_new_privs = process["noNewPrivileges"].get<bool>();
    } else {
        cfg.no_new_privs = false;
    }
    if (process.contains("oomScoreAdj")) {
        const json& adj = process["oomScoreAdj"];
        if (!adj.is_number_integer() || adj.get<std::int64_t>() < -1000 ||
            adj.get<std::int64_t>() > 1000)
            throw Refused("process.oomScoreAdj", "expected a number from -1000 to 1000");
        cfg.oom_score_adj = adj.get<int>();
    }
    if (process.contains("rlimits")) {
        const json& limits = process["rlimits"];
        if (!limits.is_array()) throw Refused("process.rlimits", "expected an array");
        for (size_t i = 0; i < limits.size(); ++i) {
            const std::string field = "process.rlimits[" + std::to_string(i) + "]";
            const json& limit = limits[i];
            if (!limit.is_object()) throw Refused(field, "expected an object");
            Rlimit rlimit;
            rlimit.name = text_of(need(limit, field + ".type", "type", json::value_t::string),
                                  field + ".type");
            rlimit.resource = rlimit_resource(rlimit.name, field + ".type");
            rlimit.soft =
                unsigned_of(need(limit, field + ".soft", "soft", json::value_t::number_unsigned),
                            field + ".soft");
            rlimit.hard =
                unsigned_of(need(limit, field + ".hard", "hard", json::value_t::number_unsigned),
                            field + ".hard");
            if (rlimit.soft > rlimit.hard) throw Refused(field, "soft is above hard");
            cfg.rlimits.push_back(rlimit);
        }
    }
}

std::vector<IdMapEntry> id_map_of(const json& linux, const char* key) {
    const std::string field = std::string("linux.") + key;
    std::vector<IdMapEntry> map;
    if (!linux.contains(key)) return map;
    const json& entries = linux[key];
    if (!entries.is_array()) throw Refused(field, "expected an array");
    for (size_t i = 0; i < entries.size(); ++i) {
        const std::string at = field + "[" + std::to_string(i) + "]";
        const json& entry = entries[i];
        if (!entry.is_object()) throw Refused(at, "expected an object");
        IdMapEntry one;
        auto number = [&](const char* name) {
            const std::uint64_t value =
                unsigned_of(need(entry, at + "." + name, name, json::value_t::number_unsigned),
                            at + "." + name);
            if (value > 0xffffffffULL) throw Refused(at + "." + name, "above 2^32-1");
            return static_cast<std::uint32_t>(value);
        };
        one.inside = number("containerID");
        one.outside = number("hostID");
        one.count = number("size");
        map.push_back(one);
    }
    return map;
}

void read_namespaces(const json& linux, Config& cfg) {
    const json& list = need(linux, "linux.namespaces", "namespaces", json::value_t::array);
    std::set<std::string> types;
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string field = "linux.namespaces[" + std::to_string(i) + "]";
        const json& ns = list[i];
        if (!ns.is_object()) throw Refused(field, "expected an object");
        const std::string type =
            text_of(need(ns, field + ".type", "type", json::value_t::string), field + ".type");
        if (type == "time") throw Refused(field + ".type", "time: nslab's lab 12 makes none");
        if (!namespace_types.count(type))
            throw Refused(field + ".type", "unknown namespace type " + type);
        types.insert(type);
        if (!ns.contains("path") || empty_value(ns["path"])) continue;
        // Joined with setns(2) instead of made: only where no layer needs
        // a namespace of its own. PID 1 of a new PID namespace (lab 01), the
        // root lab 02 pivots to, lab 05's maps and lab 06's cgroup root are
        // made, not found.
        static const std::map<std::string, int> joinable = {
            {"network", CLONE_NEWNET}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC}};
        const auto joined = joinable.find(type);
        if (joined == joinable.end())
            throw Refused(field + ".path", "joining an existing " + type +
                                               " namespace: nslab makes its own (only network, "
                                               "uts and ipc are joined by path)");
        const std::string path = text_of(ns["path"], field + ".path");
        if (path.front() != '/') throw Refused(field + ".path", path + ": not an absolute path");
        cfg.joined.push_back({joined->second, path, field + ".path", -1});
    }
    // New ones of the other types are always made: more isolated than
    // asked, never less. Without pid or mount nslab cannot build at all.
    for (const char* needed : {"pid", "mount"})
        if (!types.count(needed))
            throw Refused("linux.namespaces",
                          std::string("no ") + needed + " namespace: nslab always makes one");
    cfg.userns = types.count("user") > 0;
    // The container's process is cloned into its new user namespace at
    // once, and from there it holds no capability over the host's
    // namespaces: setns(2) of a host path would fail (EPERM).
    if (cfg.userns && !cfg.joined.empty())
        throw Refused(cfg.joined.front().field,
                      "a namespace joined by path with a new user namespace: nslab cannot "
                      "(the clone enters the user namespace first)");
    cfg.uid_map = id_map_of(linux, "uidMappings");
    cfg.gid_map = id_map_of(linux, "gidMappings");
    if (!cfg.userns && (!cfg.uid_map.empty() || !cfg.gid_map.empty()))
        throw Refused("linux.uidMappings", "needs a user namespace in linux.namespaces");
}

void read_resources(const json& linux, Config& cfg) {
    if (!linux.contains("resources")) return;
    const json& resources = linux["resources"];
    if (!resources.is_object()) throw Refused("linux.resources", "expected an object");
    for (const auto& [name, value] : resources.items()) {
        const std::string field = "linux.resources." + name;
        if (name == "memory") {
            for (const auto& [key, limit] : value.items()) {
                // Lab 06 gives a limited container no swap at all: any
                // memory+swap limit (podman's --memory asks twice the
                // limit) is met, and more strictly.
                if (key == "swap" || limit.is_null()) continue;
                if (key == "disableOOMKiller" && limit.is_boolean() && !limit.get<bool>()) continue;
                if (key != "limit")
                    throw Refused(field + "." + key, "nslab sets only memory.limit (lab 06)");
                if (limit.is_number_integer() && limit.get<std::int64_t>() > 0)
                    cfg.memory = limit.get<std::uint64_t>();
            }
        } else if (name == "pids") {
            if (value.contains("limit") && value["limit"].is_number_integer() &&
                value["limit"].get<std::int64_t>() > 0)
                cfg.pids = value["limit"].get<std::uint64_t>();
        } else if (name == "cpu") {
            for (const auto& [key, setting] : value.items())
                if (key != "quota" && key != "period" && !setting.is_null())
                    throw Refused(field + "." + key, "nslab sets only cpu.quota/period (lab 06)");
            if (value.contains("quota") && value["quota"].is_number_integer() &&
                value["quota"].get<std::int64_t>() > 0) {
                const double period = value.contains("period") && value["period"].is_number()
                                          ? value["period"].get<double>()
                                          : 100000.0;
                cfg.cpus = value["quota"].get<double>() / period;
            }
        } else if (name == "devices") {
            // Deny-all is what nslab's own /dev already is (lab 02's few
            // nodes); any rule that allows more is refused.
            if (!value.is_array()) throw Refused(field, "expected an array");
            for (size_t i = 0; i < value.size(); ++i) {
                const json& rule = value[i];
                if (rule.value("allow", true) || rule.contains("major") || rule.contains("minor"))
                    throw Refused(field + "[" + std::to_string(i) + "]",
                                  "nslab's /dev is lab 02's; device rules other than deny-all "
                                  "are not supported");
            }
        } else if (!empty_value(value)) {
            throw Refused(field, "nslab cannot honour it (not supported)");
        }
    }
}

// The config's lists replace Docker's (lab 11 masks what it is given).
void read_paths(const json& linux, Config& cfg) {
    auto list = [&](const char* key) -> std::optional<std::vector<std::string>> {
        if (!linux.contains(key)) return std::nullopt;
        const std::string field = std::string("linux.") + key;
        std::vector<std::string> paths = strings_of(linux[key], field);
        for (const std::string& path : paths)
            if (path.empty() || path.front() != '/' || path.find("/..") != std::string::npos)
                throw Refused(field, path + ": not a plain absolute path");
        return paths;
    };
    cfg.masked_paths = list("maskedPaths");
    cfg.read_only_paths = list("readonlyPaths");
}

// linux.sysctl: only the kernel's settings that belong to a namespace the
// container has its own of (network, IPC, UTS's domain name); any other is
// the host's and refused (runc's list, sysctl(8), ipc_namespaces(7)).
void read_sysctl(const json& linux, Config& cfg) {
    if (!linux.contains("sysctl")) return;
    const json& settings = linux["sysctl"];
    if (!settings.is_object()) throw Refused("linux.sysctl", "expected an object");
    static const std::set<std::string> ipc = {
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
        "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
    for (const auto& [name, value] : settings.items()) {
        const std::string field = "linux.sysctl." + name;
        std::string key = name;
        std::replace(key.begin(), key.end(), '/', '.');
        const bool good_name =
            !key.empty() && key.find("..") == std::string::npos && key.front() != '.' &&
            key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.-") == std::string::npos;
        if (!good_name) throw Refused(field, "not a sysctl name");
        const bool own = key.rfind("net.", 0) == 0 || key.rfind("fs.mqueue.", 0) == 0 ||
                         ipc.count(key) || key == "kernel.domainname";
        if (!own)
            throw Refused(field, "not of the container's own namespaces: it would set the host's");
        const std::string text = text_of(value, field);
        if (text.find('\n') != std::string::npos) throw Refused(field, "a value of one line");
        cfg.sysctls.push_back({key, text});
    }
}

// The spec's seccomp object is Docker's profile format less its
// architecture map: lab 11's reader takes it, once what it cannot honour
// is refused. A system call libseccomp does not know is left out of a rule
// that allows it (it stays denied), never out of one that denies it.
void read_seccomp(const json& linux, Config& cfg) {
    cfg.seccomp = false;  // none asked: none (lab 11's default filter is Docker's choice)
    if (!linux.contains("seccomp") || empty_value(linux["seccomp"])) return;
    json profile = linux["seccomp"];
    if (!profile.is_object()) throw Refused("linux.seccomp", "expected an object");
    for (const char* key : {"flags", "listenerPath", "listenerMetadata"})
        if (profile.contains(key) && !empty_value(profile[key]))
            throw Refused(std::string("linux.seccomp.") + key,
                          "nslab cannot honour it (lab 11 loads a plain filter)");
    const std::string default_action = profile.value("defaultAction", "");
    if (profile.contains("syscalls") && profile["syscalls"].is_array()) {
        for (json& rule : profile["syscalls"]) {
            if (!rule.is_object() || !rule.contains("names") || !rule["names"].is_array()) continue;
            if (rule.value("action", "") == "SCMP_ACT_NOTIFY")
                throw Refused("linux.seccomp.syscalls", "SCMP_ACT_NOTIFY needs a listener");
            const bool allows =
                rule.value("action", "") == "SCMP_ACT_ALLOW" && default_action != "SCMP_ACT_ALLOW";
            if (!allows) continue;
            json known = json::array();
            for (const json& name : rule["names"])
                if (!name.is_string() || seccomp_syscall_resolve_name(
                                             name.get<std::string>().c_str()) != __NR_SCMP_ERROR)
                    known.push_back(name);
            rule["names"] = known;
        }
    }
    cfg.seccomp_profile = "(config.json linux.seccomp)";
    cfg.seccomp_profile_text = profile.dump();
    try {
        confine_plan::parse_profile(cfg.seccomp_profile, cfg.seccomp_profile_text);
    } catch (const UsageError& e) {
        throw Refused("linux.seccomp", e.what());
    }
}

void read_linux(const json& doc, Config& cfg) {
    const json& linux = need(doc, "linux", "linux", json::value_t::object);
    check_fields(linux, "linux.", linux_fields, linux_refused);
    read_namespaces(linux, cfg);
    read_resources(linux, cfg);
    read_paths(linux, cfg);
    read_sysctl(linux, cfg);
    if (linux.contains("rootfsPropagation")) {
        const std::string propagation =
            text_of(linux["rootfsPropagation"], "linux.rootfsPropagation");
        if (propagation != "private" && propagation != "rprivate" && !propagation.empty())
            throw Refused("linux.rootfsPropagation", propagation + ": nslab's root is private");
    }
    read_seccomp(linux, cfg);
}

}  // namespace

Bundle read(const std::string& text, const std::string& bundle_dir, const Config& base,
            const std::function<bool(const std::string&)>& exists) {
    const json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) throw Refused("(the file)", "not a JSON object");
    check_fields(doc, "", top_fields, top_refused);
    const std::string version =
        text_of(need(doc, "ociVersion", "ociVersion", json::value_t::string), "ociVersion");
    if (version.rfind("1.", 0) != 0)
        throw Refused("ociVersion", version + ": nslab reads version 1 of the spec");
    Bundle bundle{base, {}};
    Config& cfg = bundle.config;
    cfg.net = NetMode::none;  // its own network namespace, with lo only
    read_root(doc, bundle_dir, cfg);
    read_mounts(doc, cfg, exists);
    read_process(doc, cfg);
    // The names of lab 03, checked as its --hostname and --domainname are.
    for (const char* key : {"hostname", "domainname"}) {
        if (!doc.contains(key)) continue;
        std::string& name = std::string_view(key) == "hostname" ? cfg.hostname : cfg.domainname;
        name = text_of(doc[key], key);
        try {
            if (!name.empty()) parse::hostname(key, name);
        } catch (const UsageError& e) {
            throw Refused(key, e.what());
        }
    }
    read_linux(doc, cfg);
    if (doc.contains("annotations")) {
        const json& annotations = doc["annotations"];
        if (!annotations.is_object()) throw Refused("annotations", "expected an object");
        for (const auto& [key, value] : annotations.items())
            bundle.annotations[key] = text_of(value, "annotations." + key);
    }
    return bundle;
}

std::string features() {
    json mount_options = json::array();
    for (const auto& [name, flag] : flag_mount_options) mount_options.push_back(name);
    for (std::string_view name : plain_mount_options) mount_options.push_back(name);
    for (std::string_view name : other_mount_options) mount_options.push_back(name);
    json capabilities = json::array();
    for (caps::Cap cap : caps::all_known()) capabilities.push_back("CAP_" + caps::name_of(cap));
    const json doc = {
        {"ociVersionMin", "1.0.0"},
        {"ociVersionMax", "1.2.0"},
        {"hooks", json::array()},  // refused: top_refused
        {"mountOptions", mount_options},
        {"linux",
         {{"namespaces", namespace_types},
          {"capabilities", capabilities},
          {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
          {"seccomp",
           {{"enabled", true},
            {"actions", confine_plan::seccomp_action_names()},
            {"operators", confine_plan::seccomp_operator_names()}}},
          {"apparmor", {{"enabled", false}}},
          {"selinux", {{"enabled", false}}}}},
        {"annotations", {{"org.nslab.lab", "12"}}}};
    return doc.dump(2) + "\n";
}

}  // namespace nslab::oci_config

#include "nslab/oci_config.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <array>
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
constexpr std::array<std::string_view, 9> process_fields = {
    "terminal",        "user",       "args", "env", "cwd", "capabilities", "rlimits",
    "noNewPrivileges", "consoleSize"};
constexpr std::array<std::string_view, 8> process_refused = {
    "commandLine", "apparmorProfile", "selinuxLabel",    "oomScoreAdj",
    "scheduler",   "ioPriority",      "execCPUAffinity", "personality"};
constexpr std::array<std::string_view, 9> linux_fields = {
    "namespaces",  "uidMappings",   "gidMappings",       "resources", "cgroupsPath",
    "maskedPaths", "readonlyPaths", "rootfsPropagation", "seccomp"};
constexpr std::array<std::string_view, 8> linux_refused = {
    "devices",     "sysctl",      "mountLabel",   "intelRdt",
    "personality", "timeOffsets", "memoryPolicy", "netDevices"};

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

// The mounts nslab makes itself (labs 02, 06, 08): a config may ask for
// each at its usual place; any other is refused.
void read_mounts(const json& doc) {
    if (!doc.contains("mounts")) return;
    const json& mounts = doc["mounts"];
    if (!mounts.is_array()) throw Refused("mounts", "expected an array");
    static const std::set<std::pair<std::string, std::string>> made = {
        {"/proc", "proc"},
        {"/dev", "tmpfs"},
        {"/dev/pts", "devpts"},
        {"/dev/shm", "tmpfs"},
        {"/dev/mqueue", "mqueue"},
        {"/sys", "sysfs"},
        {"/sys/fs/cgroup", "cgroup"},
        {"/sys/fs/cgroup", "cgroup2"},
        {"/tmp", "tmpfs"}};
    for (size_t i = 0; i < mounts.size(); ++i) {
        const std::string field = "mounts[" + std::to_string(i) + "]";
        const json& mount = mounts[i];
        if (!mount.is_object()) throw Refused(field, "expected an object");
        const std::string destination =
            text_of(need(mount, field + ".destination", "destination", json::value_t::string),
                    field + ".destination");
        const std::string type =
            mount.contains("type") ? text_of(mount["type"], field + ".type") : "bind";
        if (!made.count({destination, type}))
            throw Refused(field, destination + " (" + type +
                                     "): nslab makes only the mounts of labs 02, 06 and 08");
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

// Lab 11's set is one set: bounding, effective and permitted must agree;
// inheritable and ambient stay empty there (fewer privileges, never more).
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
        if (set_of(other) != bounding)
            throw Refused(std::string("process.capabilities.") + other,
                          "differs from bounding; nslab gives one set (lab 11)");
    set_of("inheritable");  // checked names; lab 11 leaves both sets empty
    set_of("ambient");
    for (caps::Cap cap : bounding) cfg.cap_add.push_back(caps::name_of(cap));
}

void read_process(const json& doc, Config& cfg) {
    const json& process = need(doc, "process", "process", json::value_t::object);
    check_fields(process, "process.", process_fields, process_refused);
    if (process.contains("terminal") && process["terminal"].is_boolean() &&
        process["terminal"].get<bool>())
        throw Refused("process.terminal", "true needs a console socket, which nslab lacks yet");
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
        for (const char* key : {"additionalGids", "umask", "username"})
            if (user.contains(key) && !empty_value(user[key]))
                throw Refused(std::string("process.user.") + key,
                              "nslab cannot honour it (not supported)");
        const std::uint64_t uid =
            unsigned_of(need(user, "process.user.uid", "uid", json::value_t::number_unsigned),
                        "process.user.uid");
        const std::uint64_t gid =
            unsigned_of(need(user, "process.user.gid", "gid", json::value_t::number_unsigned),
                        "process.user.gid");
        if (uid != 0 || gid != 0) cfg.user = std::to_string(uid) + ":" + std::to_string(gid);
    }
    read_capabilities(process, cfg);
    if (process.contains("noNewPrivileges")) {
        if (!process["noNewPrivileges"].is_boolean())
            throw Refused("process.noNewPrivileges", "expected true or false");
        cfg.no_new_privs = process["noNewPrivileges"].get<bool>();
    } else {
        cfg.no_new_privs = false;
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
        static const std::set<std::string> known = {"pid", "network", "mount", "ipc",
                                                    "uts", "user",    "cgroup"};
        if (type == "time") throw Refused(field + ".type", "time: nslab's lab 12 makes none");
        if (!known.count(type)) throw Refused(field + ".type", "unknown namespace type " + type);
        if (ns.contains("path") && !empty_value(ns["path"]))
            throw Refused(field + ".path",
                          "joining an existing " + type + " namespace is not supported yet");
        types.insert(type);
    }
    // New ones of the other types are always made: more isolated than
    // asked, never less. Without pid or mount nslab cannot build at all.
    for (const char* needed : {"pid", "mount"})
        if (!types.count(needed))
            throw Refused("linux.namespaces",
                          std::string("no ") + needed + " namespace: nslab always makes one");
    cfg.userns = types.count("user") > 0;
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
                if (key != "limit" && !limit.is_null())
                    throw Refused(field + "." + key, "nslab sets only memory.limit (lab 06)");
                if (key == "limit" && limit.is_number_integer() && limit.get<std::int64_t>() > 0)
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

void read_paths(const json& linux, const std::function<bool(const std::string&)>& exists) {
    auto check = [&](const char* key, const std::vector<std::string>& nslab_does) {
        if (!linux.contains(key)) return;
        const std::string field = std::string("linux.") + key;
        for (const auto& path : strings_of(linux[key], field))
            if (std::find(nslab_does.begin(), nslab_does.end(), path) == nslab_does.end() &&
                exists(path))
                throw Refused(field, path + ": nslab's lab 11 does not cover it");
    };
    // nslab masks Docker's paths and makes Docker's read-only (lab 11).
    check("maskedPaths", confine_plan::masked_paths());
    check("readonlyPaths", confine_plan::read_only_paths());
}

void read_linux(const json& doc, Config& cfg,
                const std::function<bool(const std::string&)>& exists) {
    const json& linux = need(doc, "linux", "linux", json::value_t::object);
    check_fields(linux, "linux.", linux_fields, linux_refused);
    read_namespaces(linux, cfg);
    read_resources(linux, cfg);
    read_paths(linux, exists);
    if (linux.contains("rootfsPropagation")) {
        const std::string propagation =
            text_of(linux["rootfsPropagation"], "linux.rootfsPropagation");
        if (propagation != "private" && propagation != "rprivate" && !propagation.empty())
            throw Refused("linux.rootfsPropagation", propagation + ": nslab's root is private");
    }
    // The filter of lab 11 takes Docker's format; the spec's is not read yet.
    if (linux.contains("seccomp") && !empty_value(linux["seccomp"]))
        throw Refused("linux.seccomp", "the spec's seccomp format is not supported yet");
    cfg.seccomp = false;  // none asked: none (lab 11's default filter is Docker's choice)
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
    read_mounts(doc);
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
    read_linux(doc, cfg, exists);
    if (doc.contains("annotations")) {
        const json& annotations = doc["annotations"];
        if (!annotations.is_object()) throw Refused("annotations", "expected an object");
        for (const auto& [key, value] : annotations.items())
            bundle.annotations[key] = text_of(value, "annotations." + key);
    }
    return bundle;
}

}  // namespace nslab::oci_config

// Lab 12's given parts, pure: a bundle's config.json to the labs' Config
// (or a refusal naming the field), the runtime's command line, container
// ids, signal names, the state file, and /proc/PID/stat. No root needed.
#include <gtest/gtest.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <csignal>
#include <nlohmann/json.hpp>

#include "nslab/confine_plan.hpp"
#include "nslab/errors.hpp"
#include "nslab/oci_config.hpp"
#include "nslab/oci_state.hpp"
#include "nslab/procfs.hpp"

using namespace nslab;
using nlohmann::json;

namespace {

// A bundle's config as `runc spec` shapes it, with a command that needs no terminal.
json spec_config() {
    return json::parse(R"({
      "ociVersion": "1.0.2-dev",
      "process": {
        "terminal": false,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh", "-c", "echo hi"],
        "env": ["PATH=/bin:/usr/bin", "TERM=xterm"],
        "cwd": "/",
        "capabilities": {
          "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
          "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
          "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
          "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        },
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": true
      },
      "root": {"path": "rootfs", "readonly": true},
      "hostname": "runc",
      "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts"},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm"},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue"},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs"},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}
      ],
      "linux": {
        "resources": {"devices": [{"allow": false, "access": "rwm"}]},
        "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                       {"type": "uts"}, {"type": "mount"}],
        "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/sys/firmware"],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys"]
      },
      "annotations": {"org.example": "yes"},
      "org.vendor.extension": {"anything": 1}
    })");
}

bool nothing_exists(const std::string&) {
    return false;
}

oci_config::Bundle read(const json& doc) {
    Config base;
    base.lab = 12;
    base.id = "abcd1234";
    return oci_config::read(doc.dump(), "/b", base, nothing_exists);
}

// The field a refusal names, or "" when the config was taken.
std::string refused_field(const json& doc) {
    try {
        read(doc);
    } catch (const oci_config::Refused& e) {
        EXPECT_NE(std::string(e.what()).find(e.field()), std::string::npos) << e.what();
        return e.field();
    }
    return "";
}

}  // namespace

TEST(OciConfig, RuncsDefaultBundleBecomesTheLabsConfig) {
    const oci_config::Bundle bundle = read(spec_config());
    const Config& cfg = bundle.config;
    EXPECT_EQ(cfg.rootfs, "/b/rootfs");
    EXPECT_FALSE(cfg.rootfs_writable);
    EXPECT_EQ(cfg.command, (std::vector<std::string>{"sh", "-c", "echo hi"}));
    EXPECT_EQ(cfg.env, (std::vector<std::string>{"PATH=/bin:/usr/bin", "TERM=xterm"}));
    EXPECT_EQ(cfg.working_dir, "/");
    EXPECT_EQ(cfg.user, "");  // root
    EXPECT_EQ(cfg.hostname, "runc");
    EXPECT_EQ(cfg.net, NetMode::none);
    EXPECT_FALSE(cfg.userns);
    EXPECT_TRUE(cfg.no_new_privs);
    EXPECT_FALSE(cfg.seccomp);  // none asked
    EXPECT_EQ(cfg.cap_drop, (std::vector<std::string>{"ALL"}));
    EXPECT_EQ(cfg.cap_add.size(), 3u);
    ASSERT_EQ(cfg.rlimits.size(), 1u);
    EXPECT_EQ(cfg.rlimits[0], (Rlimit{"RLIMIT_NOFILE", RLIMIT_NOFILE, 1024, 1024}));
    EXPECT_EQ(bundle.annotations.at("org.example"), "yes");
}

TEST(OciConfig, UserMapsLimitsAndAnAbsoluteRoot) {
    json doc = spec_config();
    doc["root"] = {{"path", "/srv/root"}};
    doc["process"]["user"] = {{"uid", 1000}, {"gid", 1001}};
    doc["linux"]["namespaces"].push_back({{"type", "user"}});
    doc["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    doc["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    doc["linux"]["resources"]["memory"] = {{"limit", 67108864}};
    doc["linux"]["resources"]["pids"] = {{"limit", 64}};
    doc["linux"]["resources"]["cpu"] = {{"quota", 50000}, {"period", 100000}};
    const Config cfg = read(doc).config;
    EXPECT_EQ(cfg.rootfs, "/srv/root");
    EXPECT_TRUE(cfg.rootfs_writable);
    EXPECT_EQ(cfg.user, "1000:1001");
    EXPECT_TRUE(cfg.userns);
    EXPECT_EQ(cfg.uid_map, (std::vector<IdMapEntry>{{0, 100000, 65536}}));
    EXPECT_EQ(cfg.gid_map, (std::vector<IdMapEntry>{{0, 100000, 65536}}));
    EXPECT_EQ(cfg.memory, 67108864u);
    EXPECT_EQ(cfg.pids, 64u);
    EXPECT_DOUBLE_EQ(*cfg.cpus, 0.5);
}

TEST(OciConfig, WhatNslabCannotHonourIsRefusedByName) {
    auto with = [](const char* pointer, json value) {
        json doc = spec_config();
        doc[json::json_pointer(pointer)] = std::move(value);
        return doc;
    };
    EXPECT_EQ(refused_field(with("/process/terminal", "yes")), "process.terminal");
    EXPECT_EQ(refused_field(with("/process/consoleSize", {{"height", 24}})),
              "process.consoleSize.width");
    EXPECT_EQ(refused_field(with("/process/oomScoreAdj", 5000)), "process.oomScoreAdj");
    EXPECT_EQ(refused_field(with("/process/apparmorProfile", "p")), "process.apparmorProfile");
    EXPECT_EQ(refused_field(with("/process/user/username", "daemon")), "process.user.username");
    EXPECT_EQ(refused_field(with("/process/user/additionalGids", {-5})),
              "process.user.additionalGids[0]");
    // The host's settings, not the container's namespaces'.
    EXPECT_EQ(refused_field(with("/linux/sysctl", {{"kernel.panic", "1"}})),
              "linux.sysctl.kernel.panic");
    EXPECT_EQ(refused_field(with("/linux/sysctl", {{"vm.swappiness", "1"}})),
              "linux.sysctl.vm.swappiness");
    EXPECT_EQ(refused_field(with("/linux/sysctl", {{"net/../../kernel/panic", "1"}})),
              "linux.sysctl.net/../../kernel/panic");
    EXPECT_EQ(refused_field(with("/linux/seccomp", {{"defaultAction", "SCMP_ACT_ALLOW"},
                                                    {"flags", {"SECCOMP_FILTER_FLAG_LOG"}}})),
              "linux.seccomp.flags");
    EXPECT_EQ(refused_field(with("/linux/seccomp", {{"defaultAction", "SCMP_ACT_ALLOW"},
                                                    {"listenerPath", "/run/agent.sock"}})),
              "linux.seccomp.listenerPath");
    EXPECT_EQ(refused_field(with("/linux/seccomp", {{"defaultAction", "SCMP_ACT_BOGUS"}})),
              "linux.seccomp");
    EXPECT_EQ(refused_field(with("/hooks", {{"prestart", {{{"path", "/bin/true"}}}}})), "hooks");
    EXPECT_EQ(refused_field(with("/linux/resources/memory/reservation", 1)),
              "linux.resources.memory.reservation");
    EXPECT_EQ(refused_field(with("/linux/resources/blockIO", {{"weight", 10}})),
              "linux.resources.blockIO");
    EXPECT_EQ(refused_field(with("/linux/namespaces/0/path", "/proc/1/ns/pid")),
              "linux.namespaces[0].path");
    EXPECT_EQ(refused_field(with("/linux/namespaces", {{{"type", "network"}}})),
              "linux.namespaces");  // no pid, no mount namespace
    EXPECT_EQ(refused_field(with("/mounts/0", {{"destination", "/data"}, {"type", "overlay"}})),
              "mounts[0]");
    EXPECT_EQ(refused_field(with("/mounts/0", {{"destination", "/data"}, {"type", "bind"}})),
              "mounts[0].source");  // missing
    EXPECT_EQ(refused_field(with("/mounts/0", {{"destination", "/data"},
                                               {"type", "bind"},
                                               {"source", "/srv"},
                                               {"options", {"rbind", "rshared"}}})),
              "mounts[0].options");  // shared propagation would reach the host
    EXPECT_EQ(
        refused_field(with("/mounts/0",
                           {{"destination", "/proc/sys"}, {"type", "bind"}, {"source", "/srv"}})),
        "mounts[0].destination");  // over lab 11's masks
    EXPECT_EQ(
        refused_field(with("/mounts/0", {{"destination", "/data/../etc"}, {"type", "tmpfs"}})),
        "mounts[0].destination");
    EXPECT_EQ(refused_field(with(
                  "/mounts/0", {{"destination", "/proc"}, {"type", "proc"}, {"options", {"ro"}}})),
              "mounts[0].options");  // nslab's /proc is read-write
    EXPECT_EQ(refused_field(with("/process/capabilities/effective", {"CAP_SYS_ADMIN"})),
              "process.capabilities.effective");  // not in bounding
    EXPECT_EQ(refused_field(with("/process/capabilities/effective", json::array())),
              "");  // podman's for --user 1000: the exec would empty it anyway
    EXPECT_EQ(refused_field(with("/process/rlimits/0/type", "RLIMIT_BOGUS")),
              "process.rlimits[0].type");
    EXPECT_EQ(refused_field(with("/ociVersion", "2.0.0")), "ociVersion");
    EXPECT_EQ(refused_field(with("/process/args", json::array())), "process.args");
    // Empty values and a vendor's own fields are no request at all.
    EXPECT_EQ(refused_field(with("/linux/sysctl", json::object())), "");
    EXPECT_EQ(refused_field(with("/org.vendor.other", 1)), "");
}

TEST(OciConfig, TheConfigsMaskedAndReadOnlyPathsReplaceDockers) {
    json doc = spec_config();
    Config cfg = read(doc).config;
    EXPECT_EQ(*cfg.masked_paths, (std::vector<std::string>{"/proc/acpi", "/proc/asound",
                                                           "/proc/kcore", "/sys/firmware"}));
    EXPECT_EQ(*cfg.read_only_paths,
              (std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys"}));
    EXPECT_EQ(&confine_plan::masked_paths(cfg), &*cfg.masked_paths);
    doc["linux"].erase("maskedPaths");
    doc["linux"].erase("readonlyPaths");
    cfg = read(doc).config;
    EXPECT_FALSE(cfg.masked_paths.has_value());  // none given: none asked, lab 11's
    EXPECT_EQ(confine_plan::masked_paths(cfg), confine_plan::masked_paths());
    EXPECT_EQ(refused_field(doc), "");
    doc["linux"]["maskedPaths"] = {"proc/kcore"};
    EXPECT_EQ(refused_field(doc), "linux.maskedPaths");
}

// What `podman run` writes (read from a run with --runtime runc): binds of
// its own files, a tmpfs of --read-only, the user's groups and umask, a
// sysctl of the container's network, its seccomp profile, --memory's swap.
TEST(OciConfig, WhatPodmanAsksIsHonoured) {
    json doc = spec_config();
    doc["mounts"].push_back({{"destination", "/etc/hosts"},
                             {"type", "bind"},
                             {"source", "/run/userdata/hosts"},
                             {"options", {"bind", "rprivate"}}});
    doc["mounts"].push_back(
        {{"destination", "/dev/shm"},
         {"type", "bind"},
         {"source", "/run/userdata/shm"},
         {"options", {"rbind", "rprivate", "nosuid", "noexec", "nodev", "ro"}}});
    doc["mounts"].push_back(
        {{"destination", "/run"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options",
          {"rw", "rprivate", "nosuid", "nodev", "tmpcopyup", "size=65536k", "mode=755"}}});
    doc["process"]["user"] = {{"uid", 0}, {"gid", 0}, {"umask", 18}, {"additionalGids", {0, 10}}};
    doc["process"]["oomScoreAdj"] = 0;
    doc["linux"]["sysctl"] = {{"net.ipv4.ping_group_range", "0 0"}};
    doc["linux"]["resources"]["memory"] = {
        {"limit", 67108864}, {"swap", 134217728}, {"disableOOMKiller", false}};
    doc["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ERRNO"},
        {"defaultErrnoRet", 38},
        {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
        {"syscalls",
         {{{"names", {"read", "write", "no_such_call_nslab_knows"}}, {"action", "SCMP_ACT_ALLOW"}},
          {{"names", {"personality"}},
           {"action", "SCMP_ACT_ALLOW"},
           {"args", {{{"index", 0}, {"value", 0}, {"op", "SCMP_CMP_EQ"}}}}}}}};
    const auto sources = [](const std::string& path) {
        return path.rfind("/run/userdata/", 0) == 0;
    };
    Config base;
    base.lab = 12;
    const Config cfg = oci_config::read(doc.dump(), "/b", base, sources).config;
    ASSERT_EQ(cfg.mounts.size(), 3u);
    ExtraMount hosts;
    hosts.source = "/run/userdata/hosts";
    hosts.destination = "/etc/hosts";
    EXPECT_EQ(cfg.mounts[0], hosts);
    EXPECT_EQ(cfg.mounts[1], (ExtraMount{.kind = ExtraMount::Kind::bind,
                                         .source = "/run/userdata/shm",
                                         .destination = "/dev/shm",
                                         .recursive = true,
                                         .flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                         .data = {},
                                         .copy_up = false}));
    EXPECT_EQ(cfg.mounts[2], (ExtraMount{.kind = ExtraMount::Kind::tmpfs,
                                         .source = "tmpfs",
                                         .destination = "/run",
                                         .flags = MS_NOSUID | MS_NODEV,
                                         .data = "size=65536k,mode=755",
                                         .copy_up = true}));
    EXPECT_EQ(cfg.umask, 022u);
    EXPECT_EQ(cfg.additional_gids, (std::vector<gid_t>{0, 10}));
    EXPECT_EQ(cfg.user, "0:0");  // its groups are set, so the ids are too
    EXPECT_EQ(cfg.oom_score_adj, 0);
    EXPECT_EQ(cfg.sysctls, (std::vector<Sysctl>{{"net.ipv4.ping_group_range", "0 0"}}));
    EXPECT_EQ(cfg.memory, 67108864u);           // and no swap at all (lab 06)
    EXPECT_FALSE(cfg.seccomp);                  // not lab 11's default filter, but...
    EXPECT_FALSE(cfg.seccomp_profile.empty());  // ...the config's
    const json profile = json::parse(cfg.seccomp_profile_text);
    EXPECT_EQ(profile["syscalls"][0]["names"],
              (json{"read", "write"}));  // the unknown one stays denied
    const confine_plan::Filter filter(
        confine_plan::parse_profile(cfg.seccomp_profile, cfg.seccomp_profile_text));
    EXPECT_NE(filter.text().find("personality"), std::string::npos) << filter.text();
    // A bind whose source is missing is refused before anything is made.
    EXPECT_THROW(oci_config::read(doc.dump(), "/b", base, nothing_exists), oci_config::Refused);
    // A call nobody knows in a rule that denies: refused, not dropped.
    doc["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"no_such_call_nslab_knows"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    EXPECT_THROW(oci_config::read(doc.dump(), "/b", base, sources), oci_config::Refused);
}

// A terminal is taken (create sends its master to --console-socket); a
// network, uts or ipc namespace named by path is joined; a path of a type
// nslab makes itself, or beside a new user namespace, is refused by name.
TEST(OciConfig, TerminalAndNamespacePathsAreTaken) {
    json doc = spec_config();
    doc["process"]["terminal"] = true;
    doc["process"]["consoleSize"] = {{"height", 33}, {"width", 101}};
    doc["linux"]["namespaces"][1]["path"] = "/run/netns/scratch";
    doc["linux"]["namespaces"][3]["path"] = "/proc/7/ns/uts";
    const Config cfg = read(doc).config;
    EXPECT_TRUE(cfg.terminal);
    EXPECT_EQ(cfg.console_size, (std::pair<unsigned, unsigned>{33, 101}));
    ASSERT_EQ(cfg.joined.size(), 2u);
    EXPECT_EQ(cfg.joined[0], (JoinedNamespace{CLONE_NEWNET, "/run/netns/scratch",
                                              "linux.namespaces[1].path", -1}));
    EXPECT_EQ(cfg.joined[1].type, CLONE_NEWUTS);
    EXPECT_TRUE(cfg.joins(CLONE_NEWNET));
    EXPECT_FALSE(cfg.joins(CLONE_NEWIPC));
    EXPECT_FALSE(read(spec_config()).config.terminal);

    for (const char* type : {"pid", "mount", "user", "cgroup"}) {
        json other = spec_config();
        other["linux"]["namespaces"].push_back({{"type", type}, {"path", "/proc/7/ns/x"}});
        EXPECT_EQ(refused_field(other), "linux.namespaces[5].path") << type;
    }
    json relative = spec_config();
    relative["linux"]["namespaces"][1]["path"] = "netns/x";
    EXPECT_EQ(refused_field(relative), "linux.namespaces[1].path");
    json with_user = spec_config();
    with_user["linux"]["namespaces"][1]["path"] = "/run/netns/scratch";
    with_user["linux"]["namespaces"].push_back({{"type", "user"}});
    EXPECT_EQ(refused_field(with_user), "linux.namespaces[1].path");
}

TEST(OciConfig, NotJsonIsOneLine) {
    EXPECT_THROW(oci_config::read("{", "/b", Config{}, nothing_exists), oci_config::Refused);
    EXPECT_THROW(oci_config::read("[]", "/b", Config{}, nothing_exists), oci_config::Refused);
}

TEST(OciInvocation, PodmansCommandLines) {
    using oci_state::parse_invocation;
    auto call = parse_invocation({"--root", "/r", "--log", "/l", "--log-format=json", "create",
                                  "--bundle", "/b", "--pid-file", "/p", "c1"});
    EXPECT_EQ(call.root, "/r");
    EXPECT_EQ(call.log, "/l");
    EXPECT_EQ(call.log_format, "json");
    EXPECT_EQ(call.command, "create");
    EXPECT_EQ(call.bundle, "/b");
    EXPECT_EQ(call.pid_file, "/p");
    EXPECT_EQ(call.id, "c1");
    EXPECT_EQ(parse_invocation({"start", "c1"}).root, oci_state::default_root);
    EXPECT_EQ(parse_invocation({"kill", "c1", "KILL"}).signal, SIGKILL);
    EXPECT_EQ(parse_invocation({"kill", "c1"}).signal, SIGTERM);
    EXPECT_TRUE(parse_invocation({"delete", "--force", "c1"}).force);
    EXPECT_TRUE(parse_invocation({"delete", "-f", "c1"}).force);
    EXPECT_TRUE(parse_invocation({"create", "--timings", "c1"}).timings);  // bench/oci's
    EXPECT_FALSE(parse_invocation({"create", "c1"}).timings);
    EXPECT_THROW(parse_invocation({"start", "--timings", "c1"}), UsageError);  // create's
    EXPECT_TRUE(parse_invocation({"--version"}).version);
    EXPECT_EQ(parse_invocation({"create", "--console-socket", "/run/c.sock", "c1"}).console_socket,
              "/run/c.sock");
    EXPECT_THROW(parse_invocation({"create", "--console-socket=", "c1"}), UsageError);
    EXPECT_EQ(parse_invocation({"kill", "--", "c1", "9"}).signal, SIGKILL);
    EXPECT_THROW(parse_invocation({"create", "--bogus", "c1"}), UsageError);
    EXPECT_THROW(parse_invocation({"start", "--force", "c1"}), UsageError);  // delete's
    EXPECT_THROW(parse_invocation({"frobnicate", "c1"}), UsageError);
    EXPECT_EQ(parse_invocation({"run", "--bundle", "/b", "-d", "c1"}).bundle, "/b");
    EXPECT_TRUE(parse_invocation({"run", "--detach", "c1"}).detach);
    EXPECT_THROW(parse_invocation({"run", "--all", "c1"}), UsageError);  // kill's
    EXPECT_THROW(parse_invocation({"start"}), UsageError);
    EXPECT_THROW(parse_invocation({"start", "a", "b"}), UsageError);
    EXPECT_THROW(parse_invocation({"--log-format", "xml", "state", "a"}), UsageError);
}

TEST(OciInvocation, ExecKillAllFeaturesAndTheRefusedOnes) {
    using oci_state::parse_invocation;
    // conmon's exec: the process spec in a file, detached, a pty's master to a socket.
    auto call = parse_invocation({"exec", "--pid-file", "/p", "--process", "/proc.json", "--detach",
                                  "--tty", "--console-socket", "/s", "c1"});
    EXPECT_EQ(call.command, "exec");
    EXPECT_EQ(call.process, "/proc.json");
    EXPECT_TRUE(call.detach && call.tty);
    EXPECT_EQ(call.pid_file, "/p");
    EXPECT_EQ(call.console_socket, "/s");
    EXPECT_EQ(call.id, "c1");
    // runc's: ID, then the command, whose own options are not ours.
    call = parse_invocation({"exec", "-e", "A=1", "--env=B=2", "-u", "1000:1000", "--cwd", "/tmp",
                             "c1", "ls", "-l", "--all"});
    EXPECT_EQ(call.args, (std::vector<std::string>{"ls", "-l", "--all"}));
    EXPECT_EQ(call.env, (std::vector<std::string>{"A=1", "B=2"}));
    EXPECT_EQ(call.user, "1000:1000");
    EXPECT_EQ(call.cwd, "/tmp");
    EXPECT_EQ(parse_invocation({"exec", "c1", "--", "x", "--"}).args,
              (std::vector<std::string>{"x", "--"}));  // one -- ends the options; the next is x's
    EXPECT_EQ(parse_invocation({"exec", "--", "c1", "x"}).args, (std::vector<std::string>{"x"}));
    EXPECT_THROW(parse_invocation({"exec", "c1"}), UsageError);  // nothing to run
    EXPECT_THROW(parse_invocation({"exec", "--process", "/p", "c1", "ls"}), UsageError);
    EXPECT_THROW(parse_invocation({"exec", "--user", "root", "c1", "ls"}), UsageError);
    EXPECT_THROW(parse_invocation({"exec", "--env", "NOEQUALS", "c1", "ls"}), UsageError);
    EXPECT_THROW(parse_invocation({"exec", "--bundle", "/b", "c1", "ls"}), UsageError);  // create's
    EXPECT_TRUE(parse_invocation({"kill", "--all", "c1", "KILL"}).all);
    EXPECT_TRUE(parse_invocation({"kill", "-a", "c1"}).all);
    EXPECT_TRUE(parse_invocation({"create", "--no-new-keyring", "c1"}).no_new_keyring);
    EXPECT_EQ(parse_invocation({"features"}).command, "features");
    EXPECT_THROW(parse_invocation({"features", "c1"}), UsageError);
    try {
        parse_invocation({"--systemd-cgroup", "create", "c1"});
        ADD_FAILURE() << "--systemd-cgroup accepted";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("--cgroup-manager=cgroupfs"), std::string::npos)
            << e.what();
    }
}

TEST(OciConfig, FeaturesListWhatTheReaderTakes) {
    const auto doc = nlohmann::json::parse(oci_config::features());
    EXPECT_EQ(doc.at("ociVersionMin"), "1.0.0");
    const auto& namespaces = doc.at("linux").at("namespaces");
    EXPECT_NE(std::find(namespaces.begin(), namespaces.end(), "network"), namespaces.end());
    EXPECT_EQ(std::find(namespaces.begin(), namespaces.end(), "time"), namespaces.end());
    const auto& options = doc.at("mountOptions");
    for (const char* option : {"ro", "nosuid", "rbind", "tmpcopyup"})
        EXPECT_NE(std::find(options.begin(), options.end(), option), options.end()) << option;
    EXPECT_EQ(doc.at("linux").at("cgroup").at("systemd"), false);
    const auto& caps = doc.at("linux").at("capabilities");
    EXPECT_NE(std::find(caps.begin(), caps.end(), "CAP_SYS_ADMIN"), caps.end());
    const auto& actions = doc.at("linux").at("seccomp").at("actions");
    EXPECT_NE(std::find(actions.begin(), actions.end(), "SCMP_ACT_ERRNO"), actions.end());
}

TEST(OciInvocation, IdsTheStateDirectoryCanHold) {
    using oci_state::check_id;
    EXPECT_NO_THROW(check_id("abc-1.2_x"));
    EXPECT_NO_THROW(check_id(std::string(1024, 'a')));
    EXPECT_THROW(check_id(std::string(1025, 'a')), UsageError);
    EXPECT_THROW(check_id("a/b"), UsageError);
    EXPECT_THROW(check_id(".."), UsageError);
    EXPECT_THROW(check_id("."), UsageError);
    EXPECT_THROW(check_id(""), UsageError);
    EXPECT_THROW(check_id(std::string("a\0b", 3)), UsageError);
}

TEST(OciInvocation, SignalNamesAndNumbers) {
    using oci_state::parse_signal;
    EXPECT_EQ(parse_signal("9"), SIGKILL);
    EXPECT_EQ(parse_signal("KILL"), SIGKILL);
    EXPECT_EQ(parse_signal("SIGTERM"), SIGTERM);
    EXPECT_EQ(parse_signal("sigusr1"), SIGUSR1);
    EXPECT_THROW(parse_signal("0"), UsageError);
    EXPECT_THROW(parse_signal("65"), UsageError);
    EXPECT_THROW(parse_signal("SIGNOPE"), UsageError);
    EXPECT_THROW(parse_signal(""), UsageError);
}

TEST(OciState, TheStateFileRoundTripsAndTheSpecsStateIsPrinted) {
    const oci_state::Saved saved{"c1", "/b", 42, 12345, "/nslab/ab-1", {{"k", "v"}}};
    EXPECT_EQ(oci_state::from_json(oci_state::to_json(saved), "s"), saved);
    EXPECT_THROW(oci_state::from_json("{}", "s"), std::runtime_error);
    const json running = json::parse(oci_state::state_json(saved, "running"));
    EXPECT_EQ(running["ociVersion"], oci_state::oci_version);
    EXPECT_EQ(running["status"], "running");
    EXPECT_EQ(running["pid"], 42);
    EXPECT_EQ(running["bundle"], "/b");
    EXPECT_EQ(running["annotations"]["k"], "v");
    EXPECT_EQ(json::parse(oci_state::state_json(saved, "stopped"))["pid"], 0);
}

TEST(ProcStat, StateAndStartTimeAfterTheLastParenthesis) {
    const std::string line =
        "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10 "
        "18446744073709551615\n";
    const auto stat = procfs::parse_stat(line);
    ASSERT_TRUE(stat);
    EXPECT_EQ(stat->state, 'S');
    EXPECT_EQ(stat->start_time, 98765u);
    EXPECT_FALSE(procfs::parse_stat("42 (x) S 1 2"));
    EXPECT_FALSE(procfs::parse_stat("garbage"));
}

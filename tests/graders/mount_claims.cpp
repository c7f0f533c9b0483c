// Lab 02's claims: the mount namespace, pivot_root, and the container's own
// /proc, /dev, /sys and /tmp. They run against every later lab's executable.
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "harness.hpp"
#include "nslab/labs.hpp"
#include "nslab/sys.hpp"

using namespace grader;

namespace {

struct MountLine {
    std::string root, mount_point, fstype, source;
};

// /proc/PID/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [TAGS] - TYPE SOURCE ...".
std::vector<MountLine> parse_mountinfo(const std::string& text) {
    std::vector<MountLine> mounts;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, word;
        MountLine m;
        if (!(fields >> id >> parent >> device >> m.root >> m.mount_point)) continue;
        while (fields >> word && word != "-") {}
        fields >> m.fstype >> m.source;
        mounts.push_back(m);
    }
    return mounts;
}

// Lines of `after` that `before` does not have.
std::string added_lines(const std::string& before, const std::string& after) {
    std::set<std::string> old;
    std::istringstream before_lines(before), after_lines(after);
    for (std::string line; std::getline(before_lines, line);) old.insert(line);
    std::string added;
    for (std::string line; std::getline(after_lines, line);)
        if (!old.count(line)) added += line + "\n";
    return added;
}

// Lines of a mount table that mention `text`.
std::string lines_with(const std::string& table, const std::string& text) {
    std::string found;
    std::istringstream lines(table);
    for (std::string line; std::getline(lines, line);)
        if (line.find(text) != std::string::npos) found += line + "\n";
    return found;
}

std::string own_mountinfo() {
    return nslab::sys::read_file("/proc/self/mountinfo");
}

// Runs `body` in a child process inside a scratch mount namespace whose
// mounts are all shared, as systemd leaves a host (this machine may not),
// and returns what it returned. The copies are made private first, cutting
// them from the host's peer groups, then shared among themselves: a runtime
// that forgets MS_PRIVATE leaks into this namespace, which dies with the
// child, never into the machine's own.
std::string in_shared_scratch_namespace(const std::function<std::string()>& body) {
    auto [from_child, to_parent] = nslab::sys::pipe2(0);
    pid_t child = nslab::sys::fork();
    if (child == 0) {
        std::string text;
        try {
            nslab::sys::unshare(CLONE_NEWNS);
            nslab::sys::mount("", "/", "", MS_REC | MS_PRIVATE);
            nslab::sys::mount("", "/", "", MS_REC | MS_SHARED);
            text = body();
        } catch (const std::exception& e) {
            text = std::string("scratch namespace: ") + e.what();
        }
        for (size_t done = 0; done < text.size();) {
            ssize_t n = ::write(to_parent.get(), text.data() + done, text.size() - done);
            if (n <= 0) break;
            done += static_cast<size_t>(n);
        }
        ::_exit(0);
    }
    to_parent.reset();
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(from_child.get(), buffer, sizeof buffer)) > 0;)
        text.append(buffer, static_cast<size_t>(n));
    ::waitpid(child, nullptr, 0);
    return text;
}

// Splits the scratch child's report: "name\x1e" + value + "\x1f" per field.
std::string field(const std::string& name, const std::string& value) {
    return name + '\x1e' + value + '\x1f';
}
std::map<std::string, std::string> fields_of(const std::string& text) {
    std::map<std::string, std::string> result;
    std::istringstream in(text);
    for (std::string record; std::getline(in, record, '\x1f');) {
        size_t sep = record.find('\x1e');
        if (sep != std::string::npos) result[record.substr(0, sep)] = record.substr(sep + 1);
    }
    return result;
}

struct stat stat_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) nslab::sys::fail("stat(" + path + ")");
    return st;
}

}  // namespace

TEST(Mount, PsSeesOnlyTheContainer) {
    claim(3, "lab02 step 4 (a fresh /proc)");
    Result r = run(lab(), {}, {"/bin/sh", "-c", "ps -o pid,comm; true"});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    std::map<std::string, std::string> processes;  // pid -> command
    std::istringstream lines(r.out);
    std::string header;
    std::getline(lines, header);
    for (std::string pid, comm; lines >> pid >> comm;) processes[pid] = comm;
    EXPECT_EQ(processes["1"], "sh") << "PID 1 is the command; busybox ps inside printed:\n"
                                    << r.out;
    EXPECT_EQ(processes.size(), 2u)
        << "expected only the container's processes (sh and ps): ps reads /proc, so the "
           "container needs a procfs mounted from inside its PID namespace; ps printed:\n"
        << r.out;
}

TEST(Mount, RootIsTheRootfs) {
    claim(2, "lab02 steps 3 and 5 (bind, pivot_root)");
    auto c = Running::start(lab(), {}, probe({"hold"}));
    std::string root = "/proc/" + std::to_string(c.container_pid()) + "/root";
    struct stat theirs = stat_of(root), rootfs = stat_of(rootfs_dir()), ours = stat_of("/");
    if (nslab::lab_has(lab(), nslab::Layer::image)) {  // an overlay of layers, the rootfs lowest
        EXPECT_EQ(nslab::sys::statfs(root).f_type, OVERLAYFS_SUPER_MAGIC)
            << root << " (the container's root) should be an overlay of the image's layers";
    } else {
        EXPECT_TRUE(theirs.st_dev == rootfs.st_dev && theirs.st_ino == rootfs.st_ino)
            << root << " (the container's root) should be the rootfs " << rootfs_dir();
    }
    EXPECT_FALSE(theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
        << root << " is the host's /";
}

TEST(Mount, NoMountLeaksToTheHost) {
    claim(4, "lab02 step 2 (MS_REC|MS_PRIVATE first)");
    const std::string rootfs = rootfs_dir();
    const pid_t grader = ::getpid();
    auto report = fields_of(in_shared_scratch_namespace([&] {
        std::string text = field("before", own_mountinfo());
        try {
            auto c = Running::start(lab(), {}, probe({"hold"}));
            text += field("during", own_mountinfo());
            text += field(
                "machine",
                lines_with(nslab::sys::read_file("/proc/" + std::to_string(grader) + "/mountinfo"),
                           rootfs));
            text += field("status", std::to_string(c.finish().status));
        } catch (const std::exception& e) {
            text += field("status", e.what());
        }
        return text + field("after", own_mountinfo());
    }));
    ASSERT_TRUE(report.count("before") && report.count("after"))
        << "the scratch namespace failed: " << testing::PrintToString(report);
    const std::string& status = report["status"];
    if (status.find_first_not_of("0123456789") != std::string::npos)
        throw std::runtime_error(status);  // it did not start: the harness's note, as elsewhere
    EXPECT_EQ(status, "0") << "the container should run and exit 0"
                           << note("exit status 0", status);
    if (report.count("during")) {
        EXPECT_EQ(added_lines(report["before"], report["during"]), "")
            << "while the container ran, these mounts appeared on the host (a scratch namespace "
               "whose / is shared, as on systemd hosts): the container's mounts propagated out";
    }
    EXPECT_EQ(added_lines(report["before"], report["after"]), "")
        << "after the container ended, these mounts stayed behind on the (scratch) host";
    EXPECT_EQ(report["machine"], "") << "this machine's own mount table mentions the rootfs";
}

TEST(Mount, MountInsideStaysInside) {
    claim(2, "lab02 step 2 (propagation)");
    const std::string name = "nslab-inside-" + std::to_string(::getpid());
    const std::string script =
        "mkdir /tmp/m && mount -t tmpfs " + name + " /tmp/m && exec " + probe_path(lab()) + " hold";
    const pid_t grader = ::getpid();
    auto report = fields_of(in_shared_scratch_namespace([&] {
        try {
            auto c = Running::start(lab(), unconfined(lab()), {"/bin/sh", "-c", script});
            std::string inside =
                nslab::sys::read_file("/proc/" + std::to_string(c.container_pid()) + "/mountinfo");
            std::string machine =
                nslab::sys::read_file("/proc/" + std::to_string(grader) + "/mountinfo");
            return field("inside", lines_with(inside, name)) +
                   field("scratch", lines_with(own_mountinfo(), name)) +
                   field("machine", lines_with(machine, name));
        } catch (const std::exception& e) {
            return field("error", e.what());
        }
    }));
    ASSERT_EQ(report["error"], "")
        << "the probe could look at its mounts" << note("no error", report["error"]);
    EXPECT_NE(report["inside"], "") << "the tmpfs mounted inside should show in the container";
    EXPECT_EQ(report["scratch"], "") << "a mount made inside appeared on the host";
    EXPECT_EQ(report["machine"], "") << "a mount made inside appeared on this machine";
}

TEST(Mount, ContainerMountsShowNoHostPath) {
    claim(3, "lab02 step 6 (detach the old root)");
    Result r = run(lab(), {}, probe({"cat", "/proc/self/mountinfo"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto mounts = parse_mountinfo(r.out);
    int at_root = 0;
    for (const auto& m : mounts) {
        at_root += m.mount_point == "/";
        bool ours = m.mount_point == "/";
        for (const char* dir : {"/proc", "/dev", "/sys", "/tmp"})
            ours |= m.mount_point == dir || m.mount_point.rfind(std::string(dir) + "/", 0) == 0;
        // From lab 04 on, as in Docker: the runtime's own /etc/hosts and
        // resolv.conf for this container (/run/nslab/files/ID/), nothing else.
        for (const char* file : {"/etc/hosts", "/etc/resolv.conf"})
            ours |= m.mount_point == file && m.root.find("/nslab/files/") != std::string::npos &&
                    m.root.ends_with(std::string(file).substr(4));
        EXPECT_TRUE(ours) << "a mount of the host (or an old root) is still in the container: "
                          << m.mount_point << " (" << m.fstype << " " << m.source << ")";
        EXPECT_LACKS(m.mount_point, rootfs_dir())
            << "a host path in the container's mount table: " << m.mount_point;
    }
    EXPECT_EQ(at_root, 1) << "expected exactly one mount at / (the rootfs); more means the old "
                             "root is still mounted on top of or under it:\n"
                          << r.out;
}

TEST(Mount, ProcIsProcfs) {
    claim(2, "lab02 step 4 (mount proc)");
    Result r = run(lab(), {}, probe({"statfs", "/proc", ",", "pids"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto fields = key_values(r.out);
    EXPECT_EQ(fields["f_type"], "0x9fa0")
        << "statfs(/proc) inside should be PROC_SUPER_MAGIC, not the rootfs's empty directory "
           "or a tmpfs";
    EXPECT_EQ(fields["pid"], "1") << "/proc inside lists PID 1, the command";
}

TEST(Mount, OldRootIsUnreachable) {
    claim(4, "lab02 steps 5 and 6 (pivot_root, not chroot; detach)");
    // A file of the host, outside the rootfs: the container must not reach it.
    const std::string marker = "/tmp/nslab-escape-marker-" + std::to_string(::getpid());
    nslab::sys::open(marker, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    nslab::ScopeGuard remove_marker([&] { ::unlink(marker.c_str()); });
    Result r = run(lab(), {}, probe({"escape", marker}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto fields = key_values(r.out);
    for (const char* technique : {"direct", "dotdot", "chroot", "proc-root"})
        EXPECT_EQ(fields[std::string("escape.") + technique], "blocked")
            << "from inside, the '" << technique << "' escape reached " << marker
            << " on the host: a chroot (or an old root left attached) can be walked out of";
}

TEST(Mount, MntNamespaceIsNew) {
    claim(1, "lab02 step 1 (CLONE_NEWNS)");
    auto c = Running::start(lab(), {}, probe({"hold"}));
    auto host = namespaces_of(::getpid());
    auto theirs = namespaces_of(c.container_pid());
    EXPECT_NE(theirs["mnt"], host["mnt"]) << "expected a new mount namespace";
    std::string column = run_host("ps -o mntns= -p " + std::to_string(c.container_pid()));
    EXPECT_EQ(std::stoull(column), theirs["mnt"]) << "host ps -o mntns says " << column;
}

TEST(Mount, DevIsMinimal) {
    claim(2, "lab02 step 4 (a minimal /dev)");
    Result r = run(lab(), {}, probe({"ls", "/dev", ",", "statfs", "/dev/pts"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    std::map<std::string, std::string> entries;  // name -> "c 1:3", "l -> ...", "d"
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("entry: ", 0) != 0) continue;
        size_t space = line.find(' ', 7);
        entries[line.substr(7, space - 7)] = line.substr(space + 1);
    }
    const std::map<std::string, std::string> expected = {{"null", "c 1:3"},
                                                         {"zero", "c 1:5"},
                                                         {"full", "c 1:7"},
                                                         {"random", "c 1:8"},
                                                         {"urandom", "c 1:9"},
                                                         {"tty", "c 5:0"},
                                                         {"ptmx", "l -> pts/ptmx"},
                                                         {"fd", "l -> /proc/self/fd"},
                                                         {"stdin", "l -> /proc/self/fd/0"},
                                                         {"stdout", "l -> /proc/self/fd/1"},
                                                         {"stderr", "l -> /proc/self/fd/2"},
                                                         {"pts", "d"},
                                                         {"shm", "d"}};
    for (const auto& [name, what] : expected)
        EXPECT_EQ(entries[name], what) << "/dev/" << name << " inside";
    for (const auto& [name, what] : entries)
        EXPECT_TRUE(expected.count(name) || what == "d")
            << "/dev/" << name << " (" << what << ") is not one of the devices a container gets";
    EXPECT_EQ(key_values(r.out)["f_type"], "0x1cd1") << "/dev/pts should be a devpts";
}

TEST(Mount, SysIsReadOnlyAndTmpIsTmpfs) {
    claim(1, "lab02 step 4 (/sys, /tmp)");
    Result r = run(lab(), {}, probe({"statfs", "/sys", ",", "readonly", "/sys"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto sys = key_values(r.out);
    EXPECT_EQ(sys["f_type"], "0x62656572") << "/sys should be a sysfs";
    EXPECT_EQ(sys["readonly"], "1") << "/sys should be mounted read-only";
    r = run(lab(), {}, probe({"statfs", "/tmp", ",", "readonly", "/tmp"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto tmp = key_values(r.out);
    EXPECT_EQ(tmp["f_type"], "0x1021994") << "/tmp should be a tmpfs";
    EXPECT_EQ(tmp["readonly"], "0") << "/tmp should be writable";
}

TEST(Mount, BadRootfsGivesOneClearLine) {
    claim(2, "lab02 handout: a bad rootfs");
    auto one_line = [](const Result& r) {
        return std::count(r.err.begin(), r.err.end(), '\n') == 1;
    };
    Result missing = run(lab(), {"--rootfs", "/no/such/rootfs"}, {"/bin/true"});
    EXPECT_EQ(missing.status, 125) << ran(missing, 125);
    EXPECT_NE(missing.err.find("/no/such/rootfs"), std::string::npos)
        << "the error names the rootfs" << says(missing, "/no/such/rootfs");
    EXPECT_TRUE(one_line(missing)) << "one line" << says(missing, "one line");
    Result file = run(lab(), {"--rootfs", rootfs_dir() + "/etc/passwd"}, {"/bin/true"});
    EXPECT_EQ(file.status, 125) << ran(file, 125);
    EXPECT_NE(file.err.find("not a directory"), std::string::npos)
        << "the error says why" << says(file, "not a directory");
    EXPECT_TRUE(one_line(file)) << "one line" << says(file, "one line");
    Result no_command = run(lab(), {}, {"/no/such/command"});
    EXPECT_EQ(no_command.status, 127) << "a command the rootfs lacks: " << no_command.err;
    EXPECT_TRUE(one_line(no_command)) << "one line" << says(no_command, "one line");
    EXPECT_EQ(lines_with(own_mountinfo(), rootfs_dir()), "") << "mounts were left behind";
    EXPECT_EQ(run(lab(), {}, {"/bin/true"}).status, 0) << "a good rootfs still works";
}

TEST(Mount, RootfsIsLeftAsItWas) {
    claim(1, "lab02 step 5 (pivot_root(\".\", \".\"): no put_old directory)");
    // Every entry of the rootfs's top directory with its change time, and
    // the directory's own: making or removing anything in it shows.
    auto listing = [] {
        std::string text;
        auto entry = [&](const std::string& path) {
            struct stat st {};
            if (::lstat(path.c_str(), &st) != 0) return;
            text += path + " " + std::to_string(st.st_ctim.tv_sec) + "." +
                    std::to_string(st.st_ctim.tv_nsec) + "\n";
        };
        entry(rootfs_dir());
        for (const auto& e : std::filesystem::directory_iterator(rootfs_dir()))
            entry(e.path().string());
        return text;
    };
    std::string before = listing();
    // Two containers on the same rootfs at once, as in a real deployment.
    auto a = Running::start(lab(), {}, probe({"hold"}));
    auto b = Running::start(lab(), {}, probe({"hold"}));
    expect_ends(a, 0, "the first container ends with its command");
    expect_ends(b, 0, "the second container ends with its command");
    EXPECT_EQ(listing(), before) << "the rootfs changed: containers share it, so the runtime "
                                    "must not make (or remove) anything in it";
}

TEST(Mount, RootfsIsReadOnlyNosuidAndTmpIsSized) {
    claim(1, "lab02 step 4 (the runtime's own code after it: / read-only, sized tmpfs)");
    // The shared rootfs: read-only and nosuid inside, so no container can
    // change what the next one runs; /tmp and /dev/shm writable, 64M each.
    Result r = run(lab(), {},
                   {"/bin/sh", "-c",
                    "touch /planted 2>/dev/null && echo planted; touch /tmp/a /dev/shm/a && "
                    "echo tmp-writable; awk '$5 == \"/\" { print \"root-mount:\", $0 }' "
                    "/proc/self/mountinfo; df -k /tmp /dev/shm"});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    // With an image (lab 10) / is writable: the writes go to the container's
    // own upper directory, never to the rootfs.
    const bool image = nslab::lab_has(lab(), nslab::Layer::image);
    if (!image) {
        EXPECT_LACKS(r.out, "planted") << "the shared rootfs is writable inside";
    }
    EXPECT_FALSE(std::filesystem::exists(rootfs_dir() + "/planted"))
        << "the shared rootfs is read-only"
        << note("no " + rootfs_dir() + "/planted", rootfs_dir() + "/planted exists");
    EXPECT_HAS(r.out, "tmp-writable") << "/tmp, /dev/shm: " << r.out;
    std::istringstream lines(r.out);
    std::string root_line;
    for (std::string line; std::getline(lines, line);)
        if (line.starts_with("root-mount: ")) root_line = line.substr(12);
    std::istringstream fields(root_line);
    std::string id, parent, device, root, mount_point, options;
    fields >> id >> parent >> device >> root >> mount_point >> options;
    EXPECT_EQ(mount_point, "/") << "no mount on / in the container's mountinfo:\n" << r.out;
    EXPECT_TRUE((image || ("," + options + ",").find(",ro,") != std::string::npos) &&
                options.find("nosuid") != std::string::npos &&
                options.find("nodev") != std::string::npos)
        << (image ? "/ inside should be nosuid,nodev (its writes go to the upper directory): "
                  : "/ inside should be ro,nosuid,nodev: ")
        << root_line;
    EXPECT_HAS(r.out, " 65536 ") << "/tmp and /dev/shm are 64M:\n" << r.out;

    // --tmpfs-size, and --rootfs-writable on a private copy (no warning).
    TempDir copy(TempDir::Holding::rootfs);
    r = run(lab(), {"--rootfs", copy.path(), "--rootfs-writable", "--tmpfs-size", "16M"},
            {"/bin/sh", "-c", "touch /planted && df -k /tmp"});
    EXPECT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_EQ(std::filesystem::exists(copy.path() + "/planted"), !image)
        << "--rootfs-writable" << (image ? ": with an image the rootfs is a lower layer" : "");
    EXPECT_HAS(r.out, " 16384 ") << "--tmpfs-size 16M:\n" << r.out;
    EXPECT_EQ(r.err, "") << "no warning for a private copy";
    r = run(lab(), {"--rootfs-writable"}, {"/bin/true"});
    if (image)  // the shared rootfs is a lower layer there: nothing to warn of
        EXPECT_EQ(r.err, "") << "--rootfs-writable with an image (the rootfs is never written)";
    else
        EXPECT_HAS(r.err, "warning: --rootfs-writable on the shared rootfs")
            << "--rootfs-writable on the shared rootfs should warn: " << r.err;
}

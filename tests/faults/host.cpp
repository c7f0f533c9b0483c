// The scratch host, starting labs on it, and what they leave behind.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

#include "faults.hpp"
#include "nslab/cgroup_plan.hpp"
#include "nslab/cgroupfs.hpp"
#include "nslab/cli.hpp"
#include "nslab/command.hpp"
#include "nslab/image_store.hpp"
#include "nslab/nat_plan.hpp"
#include "nslab/net_host.hpp"
#include "nslab/net_plan.hpp"
#include "nslab/netlink.hpp"
#include "nslab/nftables.hpp"
#include "nslab/oci_image.hpp"
#include "nslab/oci_state.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace faults {

namespace fs = std::filesystem;
namespace sys = nslab::sys;

std::string bin_dir;

std::string lab_path(int lab) {
    return bin_dir + "/" + nslab::lab_program_name(lab);
}

std::string probe_in(int lab) {
    return nslab::lab_has(lab, nslab::Layer::mount) ? "/bin/probe" : bin_dir + "/probe";
}

// "/tmp/X" when the build we run from is under /tmp/X, else "".
std::string kept_tree() {
    if (!bin_dir.starts_with("/tmp/")) return {};
    return "/tmp/" + bin_dir.substr(5, bin_dir.find('/', 5) - 5);
}

std::string fixtures_dir() {
    return "/tmp/faults-fixtures";
}

void become_scratch_host() {
    sys::unshare(CLONE_NEWNS | CLONE_NEWNET);
    // Cut from the real host's mounts, then shared again (new peer groups,
    // ours alone): a container that forgot MS_PRIVATE would leak into us.
    sys::mount("none", "/", "", MS_REC | MS_PRIVATE);
    sys::mount("none", "/", "", MS_REC | MS_SHARED);
    // A /tmp of our own, so its snapshot sees only what the runs leave. The
    // tree we run from may itself sit under /tmp (a CI clone): hold it by an
    // O_PATH fd across the new mount and bind it back at the same path.
    const std::string tree = kept_tree();
    nslab::Fd held;
    if (!tree.empty()) held = sys::open(tree, O_PATH | O_DIRECTORY);
    sys::mount("faults-tmp", "/tmp", "tmpfs", MS_NOSUID, "mode=1777");
    if (held) {
        sys::mkdir(tree, 0755);
        sys::mount("/proc/self/fd/" + std::to_string(held.get()), tree, "", MS_BIND | MS_REC);
    }
    // Lab 10's layers unpack into a store of this host's own: the real one
    // is a cache other runs use (a test empties ours to unpack again).
    sys::mkdir_p(nslab::oci::store_root, 0755);
    sys::mount("faults-layers", nslab::oci::store_root, "tmpfs", MS_NOSUID, "mode=755");
    // Lab 12's state root too: `nslab cleanup` sweeps it, and must find ours alone.
    sys::mkdir_p(nslab::oci_state::default_root, 0700);
    sys::mount("faults-oci", nslab::oci_state::default_root, "tmpfs", MS_NOSUID, "mode=700");
    // Lab 04's /etc/hosts and resolv.conf files: a grader beside us makes and
    // removes its own in the real one, which our snapshots would take for
    // ours (faults.parallel failed so, beside grade.lab08). The leases stay
    // shared: a snapshot tells them by their owner.
    sys::mkdir_p(nslab::net::files_dir, 0755);
    sys::mount("faults-files", nslab::net::files_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755");
    nslab::netlink::Socket nl;
    nslab::netlink::set_up(nl, "lo");
    sys::prctl(PR_SET_CHILD_SUBREAPER, 1);
    sys::mkdir_p(fixtures_dir() + "/empty", 0755);
}

void empty_layer_store() {
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(nslab::oci::store_root, ignored))
        if (entry.path().filename() != "tmp") fs::remove_all(entry.path(), ignored);
}

std::string test_image() {
    const std::string image = NSLAB_TEST_IMAGE;
    return sys::exists(image) ? image : std::string();
}

// --- Runtime ----------------------------------------------------------------

Runtime::Runtime(const Launch& launch) {
    namespace command = nslab::command;
    nslab::Fd err(sys::check(::memfd_create("lab-stderr", MFD_CLOEXEC), "memfd_create"));
    std::vector<std::string> argv{launch.program.empty() ? lab_path(launch.lab) : launch.program};
    argv.insert(argv.end(), launch.args.begin(), launch.args.end());
    const std::string empty = fixtures_dir() + "/empty";
    command::Spec spec{
        .argv = argv,
        .in = command::Stream::pipe(),
        .out = command::Stream::pipe(),
        .err = command::Stream::to(err.get()),
        .own_process_group = true,  // a Ctrl-C for us is not one for the lab
        .before_exec =
            [&] {
                // A Ctrl-C must reach the lab as a terminal's would, whatever we
                // inherited: a shell starts a background job with SIGINT and SIGQUIT
                // ignored, and exec keeps an ignored signal ignored (signal(7)).
                ::signal(SIGINT, SIG_DFL);
                ::signal(SIGQUIT, SIG_DFL);
                if (!launch.no_time_namespaces) return;
                // This process becomes the lab (exec keeps the PID): hide its
                // /proc/self/ns behind an empty directory, as on a kernel
                // without namespaces of that kind.
                sys::unshare(CLONE_NEWNS);
                sys::mount("none", "/", "", MS_REC | MS_PRIVATE);
                sys::mount(empty, "/proc/" + std::to_string(::getpid()) + "/ns", "", MS_BIND);
            },
        .setup_failed = 120,
    };
    spec.environment = launch.environment;
    if (launch.as_user) spec.as_user.emplace(65534, 65534);
    try {
        command::Child child = command::start(spec);
        pid_ = child.pid;
        stdin_ = std::move(child.in);
        stdout_ = std::move(child.out);
    } catch (const command::NotStarted& e) {
        // It never ran: wait() gives the status a shell would, err() the reason.
        reaped_ = true;
        not_started_ = e.status();
        sys::write_file("/proc/self/fd/" + std::to_string(err.get()), e.what() + std::string("\n"));
    }
    stderr_ = std::move(err);
}

Runtime::~Runtime() {
    if (!reaped_) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

bool Runtime::wait_for_line(const std::string& prefix, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    size_t checked = 0;
    for (;;) {
        for (size_t newline; (newline = out_.find('\n', checked)) != std::string::npos;) {
            if (out_.compare(checked, prefix.size(), prefix) == 0) return true;
            checked = newline + 1;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{stdout_.get(), POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
        char buffer[4096];
        ssize_t n = ::read(stdout_.get(), buffer, sizeof buffer);
        if (n <= 0) return false;
        out_.append(buffer, static_cast<size_t>(n));
    }
}

void Runtime::signal(int sig) const {
    if (!reaped_) ::kill(pid_, sig);
}

int Runtime::wait(std::chrono::milliseconds limit) {
    if (reaped_) return not_started_;
    auto ended = nslab::command::wait_until(pid_, std::chrono::steady_clock::now() + limit);
    reaped_ = true;
    int result = ended.timed_out ? -1 : nslab::exit_status_of(ended.status);
    // The rest of stdout: the container is gone, so the pipe ends.
    char buffer[4096];
    for (ssize_t n; (n = ::read(stdout_.get(), buffer, sizeof buffer)) > 0;)
        out_.append(buffer, static_cast<size_t>(n));
    return result;
}

std::string Runtime::err() const {
    return text_of(stderr_);
}

std::string text_of(const nslab::Fd& file) {
    std::string text;
    char buffer[4096];
    off_t at = 0;
    for (ssize_t n; (n = ::pread(file.get(), buffer, sizeof buffer, at)) > 0; at += n)
        text.append(buffer, static_cast<size_t>(n));
    return text;
}

// --- what is left behind ------------------------------------------------------

namespace {

std::set<std::string> lines_of(const std::string& text) {
    std::set<std::string> lines;
    size_t start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
        lines.insert(text.substr(start, end - start));
    return lines;
}

// Entries of dir (to `depth` levels) whose path contains `part` ("" = all).
void walk(const fs::path& dir, int depth, const std::string& part, std::set<std::string>& out) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string path = it->path().string();
        if (path.find(part) != std::string::npos) out.insert(path);
        if (depth > 1 && it->is_directory(ec) && !it->is_symlink(ec))
            walk(it->path(), depth - 1, part, out);
    }
}

// The runtime that owns a cgroup ("/sys/.../nslab/ID-PID") or a lease line
// ("10.88.0.2 pid=PID" or ".new-PID-veth").
std::optional<pid_t> owner(const std::string& line) {
    size_t at = line.find(" pid=");
    if (at != std::string::npos) return std::atoi(line.c_str() + at + 5);
    const std::string name = line.substr(line.rfind('/') + 1);
    if (name.starts_with(".new-")) return std::atoi(name.c_str() + 5);
    return nslab::cgroupfs::owner_of(name);
}

void compare(const char* what, const std::set<std::string>& before,
             const std::set<std::string>& after, const std::set<pid_t>* ours,
             std::vector<std::string>& out) {
    for (const auto& line : after)
        if (!before.count(line)) {
            if (ours) {
                auto who = owner(line);
                if (!who || !ours->count(*who)) continue;  // someone else's
            }
            out.push_back(std::string("left behind: ") + what + " " + line);
        }
    if (ours) return;  // others may remove their own
    for (const auto& line : before)
        if (!after.count(line)) out.push_back(std::string("removed: ") + what + " " + line);
}

std::vector<std::string> differences(const HostState& before, const HostState& after,
                                     const std::set<pid_t>& ours) {
    std::vector<std::string> out;
    compare("mount", before.mounts, after.mounts, nullptr, out);
    compare("link", before.links, after.links, nullptr, out);
    compare("named netns", before.netns, after.netns, nullptr, out);
    compare("file", before.tmp, after.tmp, nullptr, out);
    compare("cgroup", before.cgroups, after.cgroups, &ours, out);
    compare("lease", before.leases, after.leases, &ours, out);
    compare("container directory", before.images, after.images, &ours, out);
    compare("unpacker's directory", before.unpacking, after.unpacking, nullptr, out);
    compare("firewall", before.firewall, after.firewall, nullptr, out);
    compare("lab 12 state", before.oci, after.oci, nullptr, out);
    compare("cgroup hand-over", before.hand_overs, after.hand_overs, &ours, out);
    return out;
}

}  // namespace

HostState snapshot() {
    HostState s;
    s.mounts = lines_of(sys::read_file("/proc/self/mountinfo"));
    nslab::netlink::Socket nl;
    auto links = nslab::netlink::links(nl);
    std::map<int, std::string> names;
    for (const auto& l : links) names[l.index] = l.name;
    // The bridge itself is the host's, like docker0: made once, kept.
    for (const auto& l : links)
        if (l.name != nslab::net_plan::bridge_name)
            s.links.insert(l.name + " " + (l.kind.empty() ? "-" : l.kind) +
                           (l.master ? " port of " + names[l.master] : ""));
    walk("/sys/fs/cgroup", 4, "nslab", s.cgroups);
    // A lease file and a container directory's owner file name their runtime.
    auto with_owner = [](const std::string& dir, const std::string& record_name,
                         std::set<std::string>& out) {
        std::set<std::string> paths;
        walk(dir, 1, "", paths);
        for (const auto& path : paths) {
            std::string record;
            try {
                record = sys::read_file(path + record_name);
            } catch (const std::system_error&) {}
            size_t at = record.find("pid=");
            out.insert(path + (at == std::string::npos
                                   ? std::string()
                                   : " pid=" + std::to_string(std::atoi(record.c_str() + at + 4))));
        }
    };
    with_owner(nslab::net::lease_dir, "", s.leases);
    with_owner(nslab::image_store::state_root, "/owner", s.images);
    walk(std::string(nslab::oci::store_root) + "/tmp", 1, "", s.unpacking);
    walk("/run/netns", 1, "", s.netns);
    walk(nslab::oci_state::default_root, 2, "", s.oci);
    walk(nslab::cgroupfs::hand_over_dir, 1, "", s.hand_overs);
    walk(nslab::net::files_dir, 1, "", s.tmp);  // lab 04's /etc/hosts and resolv.conf
    // Lab 04's NAT: the table, each tagged rule, the forwarding switch.
    nslab::nftables::Context nft;
    const std::string json = nft.json_of("list table ip nslab");
    if (!json.empty()) {
        s.firewall.insert("table ip nslab");
        for (const auto& rule : nslab::nat_plan::parse_listing(json).rules)
            s.firewall.insert("rule in " + rule.chain + " of container " + rule.id);
    }
    std::string forward = "?";
    try {
        forward = sys::read_file("/proc/sys/net/ipv4/ip_forward").substr(0, 1);
    } catch (const std::system_error&) {}
    s.firewall.insert("net.ipv4.ip_forward=" + forward);
    walk("/tmp", 3, "", s.tmp);
    // `nslab image build`'s temporary directories, and the images it made.
    walk(nslab::oci::images_root, 1, "", s.tmp);
    // The build tree we run from (kept under /tmp) is not the runs' litter.
    if (const std::string tree = kept_tree(); !tree.empty())
        std::erase_if(s.tmp, [&](const std::string& path) {
            return path == tree || path.starts_with(tree + "/");
        });
    return s;
}

std::vector<std::string> settle(const HostState& before, const std::set<pid_t>& ours,
                                std::chrono::milliseconds limit, const std::set<pid_t>& running) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    // A runtime removes its cgroup and lease before it exits, and `nslab
    // cleanup` before it returns: they must be gone now. (Waiting would let
    // someone else's cleanup of stale runtimes hide a leak of ours.)
    std::vector<std::string> at_once = differences(before, snapshot(), ours);
    std::erase_if(at_once, [](const std::string& line) {
        return !line.starts_with("left behind: cgroup") && !line.starts_with("left behind: lease");
    });
    for (;;) {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {}
        std::vector<std::string> left = differences(before, snapshot(), ours);
        for (const auto& line : at_once)
            if (std::find(left.begin(), left.end(), line) == left.end()) left.push_back(line);
        for (pid_t pid : nslab::procfs::children(::getpid())) {
            if (running.count(pid)) continue;
            std::string comm = "?";
            try {
                comm = sys::read_file("/proc/" + std::to_string(pid) + "/comm");
                comm.pop_back();
            } catch (const std::system_error&) {}
            left.push_back("left behind: process " + std::to_string(pid) + " (" + comm + ")");
        }
        if (left.empty() || std::chrono::steady_clock::now() > deadline) return left;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void kill_leftovers() {
    for (int round = 0; round < 50; ++round) {
        auto left = nslab::procfs::children(::getpid());
        if (left.empty()) return;
        for (pid_t pid : left) ::kill(pid, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {}
    }
}

int run_cleanup() {
    namespace command = nslab::command;
    try {
        return nslab::exit_status_of(command::run({.argv = {bin_dir + "/nslab-tool", "cleanup"},
                                                   .out = command::Stream::null(),
                                                   .err = command::Stream::null()})
                                         .status);
    } catch (const command::NotStarted& e) {
        return e.status();
    }
}

}  // namespace faults

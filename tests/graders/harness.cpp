#include "harness.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "nslab/cgroupfs.hpp"
#include "nslab/cli.hpp"
#include "nslab/command.hpp"
#include "nslab/errors.hpp"
#include "nslab/image_store.hpp"
#include "nslab/net_host.hpp"
#include "nslab/netlink.hpp"
#include "nslab/observe.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace grader {

namespace {

std::string env_or(const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return value && *value ? value : fallback;
}

}  // namespace

namespace {

// After a first hang, a grader's other waits are short: a lab whose init
// never returns would otherwise charge every claim the full timeout.
bool hung_before = false;
constexpr std::chrono::seconds after_a_hang(5);

std::chrono::seconds limited(std::chrono::seconds timeout) {
    return hung_before ? std::min(timeout, after_a_hang) : timeout;
}

// Names the hang in the claim that met it: how long, waiting for what.
void hang(std::chrono::seconds waited, const std::string& what) {
    const bool first = !hung_before;
    hung_before = true;
    ADD_FAILURE() << "nslab: hang: "
                  << testing::UnitTest::GetInstance()->current_test_info()->name()
                  << " killed the lab after " << waited.count() << " s waiting for " << what
                  << (first ? "" : " (after an earlier hang, waits are cut to 5 s)");
}

std::string last_line(const std::string& text) {
    std::string line;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (!l.empty() && l.rfind("[grader:", 0) != 0) line = l;
    return line;
}

}  // namespace

std::string note(const std::string& expected, const std::string& observed,
                 const std::string& step) {
    std::string text = "\nnslab: expected: " + expected + "\nnslab: observed: " + observed;
    if (!step.empty()) text += "\nnslab: step: " + step;
    return text;
}

namespace {

// A piece of output on one line of a note: tabs as spaces, lines joined.
std::string one_line(const std::string& text) {
    std::string out;
    for (char c : text) out += c == '\t' ? " " : c == '\n' ? "; " : std::string(1, c);
    while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
    return out;
}

// The lines of `text` that hold `part`, at most three.
std::string lines_holding(const std::string& text, const std::string& part) {
    std::istringstream lines(text);
    std::string line, found;
    int n = 0;
    while (std::getline(lines, line))
        if (line.find(part) != std::string::npos && n++ < 3)
            found += (found.empty() ? "" : "\n") + line;
    return found;
}

}  // namespace

std::string holds(const std::string& text, const std::string& piece, bool wanted) {
    const std::string shown = one_line(piece);
    // The note ends its line: the grader's own words follow it.
    if (!wanted) return note("no '" + shown + "'", one_line(lines_holding(text, piece))) + "\n";
    // The line standing where the piece should: the longest run of the
    // piece's leading words that some line holds ("link: lo" of "link: lo up").
    std::string observed;
    std::string head = piece.substr(0, piece.find('\n'));
    while (observed.empty()) {
        size_t cut = head.find_last_of(" \t");
        if (cut == std::string::npos) break;
        head = head.substr(0, cut);
        if (head.find_first_not_of(" \t") == std::string::npos) break;
        observed = lines_holding(text, head);
    }
    if (observed.empty()) {
        size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
        observed = text.empty() ? "nothing"
                   : lines <= 1 ? text
                                : "none of its " + std::to_string(lines) + " lines";
    }
    return note(shown, one_line(observed)) + "\n";
}

std::string status_text(int status) {
    std::string text = "exit status " + std::to_string(status);
    if (status == 0) return text + " (success)";
    if (status == 2) return text + " (a bad command line)";
    if (status == 125) return text + " (the runtime failed)";
    if (status == 126) return text + " (the command cannot run)";
    if (status == 127) return text + " (the command was not found)";
    if (status > 128 && status < 128 + 65)
        return text + " (killed by " + (sigabbrev_np(status - 128) ? "SIG" : "signal ") +
               (sigabbrev_np(status - 128) ? sigabbrev_np(status - 128)
                                           : std::to_string(status - 128).c_str()) +
               ")";
    return text;
}

std::string ran(const Result& r, int expected) {
    std::string text = note(status_text(expected), status_text(r.status));
    std::string line = last_line(r.err);
    if (!line.empty()) text += "\nnslab: stderr: " + line;
    if (r.status == nslab::exit_status::runtime_failed && expected != r.status)
        text += "\nnslab: did-not-start: " + status_text(r.status);
    return text;
}

std::string says(const Result& r, const std::string& wanted) {
    std::string line = last_line(r.err);
    return note("a line on stderr saying " + wanted, line.empty() ? "nothing on stderr" : line);
}

void expect_status(const Result& r, int expected, const std::string& what) {
    EXPECT_EQ(r.status, expected) << what << ran(r, expected);
}

void expect_ends(Running& c, int expected, const std::string& what) {
    expect_status(c.finish(), expected, what);
}

int wait_with_timeout(pid_t pid, std::chrono::seconds timeout, bool* timed_out) {
    auto ended = nslab::command::wait_until(pid, std::chrono::steady_clock::now() + timeout);
    if (ended.timed_out) *timed_out = true;
    return nslab::exit_status_of(ended.status);
}

namespace {

std::string drain(int fd) {
    std::string text;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
    return text;
}

std::string temp_pid_file() {
    static int counter = 0;
    return "/tmp/nslab-grader-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) +
           ".pid";
}

// Who the lab runs as (RunAs); nothing: as the grader.
std::optional<std::pair<uid_t, gid_t>> run_as;

}  // namespace

pid_t spawn(int lab_number, const std::vector<std::string>& options,
            const std::vector<std::string>& command, nslab::Fd& in, nslab::Fd& out,
            nslab::Fd& err) {
    using nslab::command::Stream;
    std::vector<std::string> argv{lab_executable(lab_number)};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    if (nslab::lab_has(lab_number, nslab::Layer::net)) enter_scratch_network();
    nslab::command::Child child = nslab::command::start({
        .argv = argv,
        .in = Stream::pipe(),
        .out = Stream::pipe(),
        .err = Stream::pipe(),
        .own_process_group = true,  // a signal for the test runner must not reach the lab
        .as_user = run_as,
    });
    in = std::move(child.in);
    out = std::move(child.out);
    err = std::move(child.err);
    return child.pid;
}

RunAs::RunAs(uid_t uid, gid_t gid) {
    run_as.emplace(uid, gid);
}
RunAs::~RunAs() {
    run_as.reset();
}

// From lab 04 on, a container plugs a veth into a bridge on the host side.
// No grader touches the real host network: before its first such container
// the grader moves into a scratch network namespace (its own, so graders
// can run side by side), and whatever the labs make there vanishes with it.
namespace {
bool in_scratch_network = false;
}  // namespace

void enter_scratch_network() {
    if (in_scratch_network) return;
    nslab::sys::unshare(CLONE_NEWNET);
    nslab::netlink::Socket nl;
    nslab::netlink::set_up(nl, "lo");
    in_scratch_network = true;
}

void claim(int points, const std::string& step, const std::string& sentence) {
    ::testing::Test::RecordProperty("points", points);
    ::testing::Test::RecordProperty("step", step);
    if (!sentence.empty()) ::testing::Test::RecordProperty("sentence", sentence);
    SCOPED_TRACE("handout: " + step);
}

std::string bin_dir() {
    return env_or("NSLAB_BIN_DIR", NSLAB_BIN_DIR);
}
TempDir::TempDir(Holding holding) {
    char name[] = "/tmp/nslab-grader-XXXXXX";
    if (!::mkdtemp(name)) nslab::sys::fail("mkdtemp(/tmp/nslab-grader-XXXXXX)");
    path_ = name;
    ::chmod(path_.c_str(), 0755);
    if (holding == Holding::rootfs)
        std::filesystem::copy(rootfs_dir(), path_,
                              std::filesystem::copy_options::recursive |
                                  std::filesystem::copy_options::copy_symlinks);
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string rootfs_dir() {
    return env_or("NSLAB_ROOTFS_DIR", NSLAB_ROOTFS_DIR);
}
std::vector<std::string> with(std::vector<std::string> options,
                              const std::vector<std::string>& more) {
    options.insert(options.end(), more.begin(), more.end());
    return options;
}

std::vector<std::string> unconfined(int lab_number) {
    if (!nslab::lab_has(lab_number, nslab::Layer::confine)) return {};
    return {"--cap-add", "ALL"};
}

std::string lab_executable(int lab_number) {
    return bin_dir() + "/" + nslab::lab_program_name(lab_number);
}
std::pair<std::string, std::string> host_root_disk() {
    struct stat st {};
    nslab::sys::check(::stat("/", &st), "stat(/)");
    std::string type;
    std::istringstream mounts(nslab::sys::read_file("/proc/self/mountinfo"));
    for (std::string line; std::getline(mounts, line);) {
        std::istringstream fields(line);
        std::string id, parent, numbers, root, point;
        fields >> id >> parent >> numbers >> root >> point;
        const size_t dash = line.find(" - ");
        if (point == "/" && dash != std::string::npos)  // the last mount on / is what / is
            type = line.substr(dash + 3, line.find(' ', dash + 3) - dash - 3);
    }
    return {std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)), type};
}
std::string probe_path(int lab_number) {
    return nslab::lab_has(lab_number, nslab::Layer::mount) ? "/bin/probe" : bin_dir() + "/probe";
}
std::vector<std::string> probe(std::vector<std::string> args) {
    args.insert(args.begin(), probe_path(lab()));
    return args;
}

Result run(int lab_number, const std::vector<std::string>& options,
           const std::vector<std::string>& command, std::chrono::seconds timeout) {
    nslab::Fd in, out, err;
    pid_t pid = spawn(lab_number, options, command, in, out, err);
    in.reset();
    // Read both pipes to the end before waiting: a full pipe would block the lab.
    Result result;
    pollfd fds[2] = {{out.get(), POLLIN, 0}, {err.get(), POLLIN, 0}};
    timeout = limited(timeout);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int open_pipes = 2;
    while (open_pipes > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || ::poll(fds, 2, static_cast<int>(left.count())) == 0) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            char buffer[4096];
            ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n <= 0) {
                fds[i].fd = -1;
                --open_pipes;
            } else {
                (i == 0 ? result.out : result.err).append(buffer, static_cast<size_t>(n));
            }
        }
    }
    bool timed_out = false;
    result.status = wait_with_timeout(
        pid, open_pipes ? std::chrono::seconds(0) : limited(std::chrono::seconds(10)), &timed_out);
    result.timed_out = open_pipes || timed_out;
    if (result.timed_out) {
        std::string what;
        for (const auto& word : command) what += (what.empty() ? "" : " ") + word;
        hang(timeout, "`" + what + "` to end (the lab's output stayed open)");
        result.err += "\n[grader: timed out, killed the lab]";
    }
    return result;
}

Running Running::start(int lab_number, std::vector<std::string> options,
                       const std::vector<std::string>& command, std::chrono::seconds timeout) {
    Running r;
    r.pid_file_ = temp_pid_file();
    options.insert(options.begin(), {"--pid-file", r.pid_file_});
    r.runtime_ = spawn(lab_number, options, command, r.stdin_, r.stdout_, r.stderr_);
    timeout = limited(timeout);
    auto started = std::chrono::steady_clock::now();
    r.first_line_ = r.read_line(timeout);
    if (r.first_line_.empty()) {
        bool gave_up = std::chrono::steady_clock::now() - started >= timeout;
        if (gave_up) {
            std::string what;
            for (const auto& word : command) what += (what.empty() ? "" : " ") + word;
            hang(timeout, "the container's first line (`" + what + "` says \"ready\")");
            throw std::runtime_error("nslab: the container hung before it was ready");
        }
        Result failed = r.finish(std::chrono::seconds(5));
        std::string text =
            "nslab: did-not-start: " + status_text(failed.status) + ", before its first line";
        if (std::string line = last_line(failed.err); !line.empty())
            text += "\nnslab: stderr: " + line;
        throw std::runtime_error(text);
    }
    std::string pid_text = nslab::sys::read_file(r.pid_file_);
    r.container_ = static_cast<pid_t>(std::stol(pid_text));
    return r;
}

Running::Running(Running&& other) noexcept
    : runtime_(std::exchange(other.runtime_, -1)),
      container_(other.container_),
      first_line_(std::move(other.first_line_)),
      pid_file_(std::move(other.pid_file_)),
      stdin_(std::move(other.stdin_)),
      stdout_(std::move(other.stdout_)),
      stderr_(std::move(other.stderr_)),
      out_buffer_(std::move(other.out_buffer_)),
      finished_(other.finished_) {}

Running::~Running() {
    if (runtime_ > 0 && !finished_) {
        ::kill(runtime_, SIGKILL);
        ::waitpid(runtime_, nullptr, 0);
        // A runtime killed by SIGKILL leaves its cgroup (lab 06 on): what
        // `nslab cleanup` would do, so graders leave nothing behind.
        try {
            nslab::cgroupfs::cleanup_stale();
        } catch (const std::exception&) {}
        // ...and its address lease in /run/nslab/leases (lab 04 on); the
        // veth and bridge it cleans are the scratch network's, never the host's.
        try {
            if (in_scratch_network) nslab::net::cleanup_stale();
        } catch (const std::exception&) {}
        // ...and its container directory (lab 10: upper, work, merged).
        try {
            nslab::image_store::cleanup_stale(nullptr);
        } catch (const std::exception&) {}
    }
    if (!pid_file_.empty()) ::unlink(pid_file_.c_str());
}

std::string read_line(int fd, std::string& buffered, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        size_t newline = buffered.find('\n');
        if (newline != std::string::npos) {
            std::string line = buffered.substr(0, newline);
            buffered.erase(0, newline + 1);
            return line;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
        char buffer[4096];
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) return {};
        buffered.append(buffer, static_cast<size_t>(n));
    }
}

std::string Running::read_line(std::chrono::seconds timeout) {
    return grader::read_line(stdout_.get(), out_buffer_, timeout);
}

void Running::signal_runtime(int sig) {
    ::kill(runtime_, sig);
}

void Running::close_stdin() {
    stdin_.reset();
}

Result Running::finish(std::chrono::seconds timeout) {
    stdin_.reset();
    bool timed_out = false;
    Result result;
    timeout = limited(timeout);
    result.status = wait_with_timeout(runtime_, timeout, &timed_out);
    result.timed_out = timed_out;
    if (timed_out) hang(timeout, "the runtime to end after its command was done");
    finished_ = true;
    // The runtime has ended; its container died with it, so the pipes end too.
    result.out = out_buffer_ + drain(stdout_.get());
    result.err = drain(stderr_.get());
    if (timed_out) result.err += "\n[grader: timed out, killed the lab]";
    return result;
}

std::map<std::string, ino_t> namespaces_of(pid_t pid) {
    std::map<std::string, ino_t> result;
    for (auto type : nslab::procfs::namespace_types)
        if (auto inode = nslab::observe::namespace_inode(pid, type))
            result[std::string(type)] = *inode;
    return result;
}

std::vector<pid_t> nspid_of(pid_t pid) {
    return nslab::observe::status(pid).nspid;
}

std::string run_host(const std::string& shell_command) {
    return nslab::command::output_of({"/bin/sh", "-c", shell_command});
}

std::map<std::string, std::string> key_values(const std::string& text) {
    std::map<std::string, std::string> result;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        size_t colon = line.find(": ");
        if (colon != std::string::npos)
            result.emplace(line.substr(0, colon), line.substr(colon + 2));
    }
    return result;
}

// The rootless test user: NSLAB_ROOTLESS_UID, or the first uid from 59999
// up that no account has. Its gid is the same number.
uid_t rootless_uid() {
    if (const char* given = std::getenv("NSLAB_ROOTLESS_UID")) return std::stoul(given);
    uid_t uid = 59999;
    while (::getpwuid(uid)) ++uid;
    return uid;
}

// Fails the claim with a clear line when the test user cannot reach the
// lab or the rootfs (a build tree under a private home directory).
void expect_reachable(uid_t uid, int lab_number) {
    pid_t child = nslab::sys::fork();
    if (child == 0) {
        bool ok = ::setgroups(0, nullptr) == 0 && ::setresgid(uid, uid, uid) == 0 &&
                  ::setresuid(uid, uid, uid) == 0 &&
                  ::access(lab_executable(lab_number).c_str(), X_OK) == 0 &&
                  ::access((rootfs_dir() + "/bin/probe").c_str(), X_OK) == 0;
        ::_exit(ok ? 0 : 1);
    }
    ASSERT_EQ(nslab::sys::waitpid(child, 0), 0)
        << "the rootless test user (uid " << uid << ") cannot run " << lab_executable(lab_number)
        << " or read " << rootfs_dir()
        << ": make the build tree reachable for others (chmod o+rx on each directory), or set "
           "NSLAB_ROOTLESS_UID to a user who can reach it";
}

ImageBuilds::ImageBuilds()
    : tool(bin_dir() + "/nslab-tool"), prefix("grader-" + std::to_string(::getpid())) {}

ImageBuilds::~ImageBuilds() {
    for (const std::string& name : podman_images)
        run_host("podman rmi -f " + name + " >/dev/null 2>&1");
    for (const std::string& name : images)
        run_host(tool + " image rm " + name + " >/dev/null 2>&1");
}

std::string ImageBuilds::build(const std::string& name, const std::string& dockerfile,
                               const std::string& dir) {
    images.push_back(name);
    return run_host(tool + " image build --bin " + bin_dir() + " -f " + dockerfile + " -t " + name +
                    " " + dir + " 2>&1 >/dev/null; echo \"status $?\"");
}

std::string ImageBuilds::load_into_podman(const std::string& name, const std::string& archive) {
    std::string last;
    if (!built(
            run_host(tool + " image save " + name + " -o " + archive + " 2>&1; echo \"status $?\""),
            &last))
        return "nslab image save: " + last;
    podman_images.push_back("localhost/" + name + ":latest");
    if (!built(run_host("podman load -i " + archive + " 2>&1; echo \"status $?\""), &last))
        return "podman load: " + last;
    return "";
}

bool built(const std::string& output, std::string* last) {
    std::istringstream lines(output);
    std::string line, previous;
    while (std::getline(lines, line))
        if (!line.starts_with("status ")) previous = line;
    *last = previous;
    return output.find("status 0\n") != std::string::npos;
}

}  // namespace grader

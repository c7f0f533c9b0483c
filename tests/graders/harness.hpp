// The graders' harness: start a lab executable, talk to the container, and
// look at it from the host through /proc and ps.
//
// A claim is a TEST whose first line is `claim(points, "handout step")`; its
// assertions say what was expected and what was observed. Tests in the
// suite named after a layer (Pid, Mount, ...) are that layer's claims; a
// lab's grader runs its own layer's claims and every earlier layer's,
// against its own executable (lab()).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "nslab/fd.hpp"

namespace grader {

// The lab whose executable this grader runs: each grader program has its own
// lab_number.cpp (compiled with NSLAB_GRADER_LAB), so a claims file compiles
// once for every grader that holds it (tests/CMakeLists.txt).
int lab();

// Records the points and the handout step a failure should send the student
// back to, and the claim in one sentence (else the scoreboard makes one from
// the test's name); the scoreboard shows them.
void claim(int points, const std::string& step, const std::string& sentence = "");

// What the student reads for a failed assertion, in the fixed form the
// scoreboard renders (tool/src/feedback.hpp): `EXPECT_...(...) << note(...)`.
// Say it in the kernel's terms: the namespace type and inode, the file and
// its content, the exit status and what it means. `step`: the step to
// revisit when it is not the claim's own (another layer's).
std::string note(const std::string& expected, const std::string& observed,
                 const std::string& step = "");

// Whether an output holds a piece, with the note a student reads: the
// piece, and the line of the output that stands where it should, by the
// piece's leading words ("link: lo down" where "link: lo up" was wanted), or
// the line that holds an unwanted piece. `EXPECT_HAS(r.out, "link: lo up")
// << "why"`; GoogleTest's own comparison (a find() against npos) stays in the
// raw text only.
#define EXPECT_HAS(text, piece) \
    EXPECT_NE((text).find(piece), std::string::npos) << ::grader::holds(text, piece, true)
#define ASSERT_HAS(text, piece) \
    ASSERT_NE((text).find(piece), std::string::npos) << ::grader::holds(text, piece, true)
#define EXPECT_LACKS(text, piece) \
    EXPECT_EQ((text).find(piece), std::string::npos) << ::grader::holds(text, piece, false)
std::string holds(const std::string& text, const std::string& piece, bool wanted);

// Moves the grader, once, into a scratch network namespace that plays the
// host's: run() and Running::start() call it for lab 04 on, so no claim
// touches the real host network.
void enter_scratch_network();

// The options under which root inside a container of `lab_number` keeps
// every capability of its namespaces: none before lab 11; from lab 11 on,
// which drops to Docker's 14, --cap-add ALL. For the earlier layers' claims
// that use root's power inside (mount, sethostname, CapEff of a user
// namespace's root): what they check holds with every capability kept.
std::vector<std::string> unconfined(int lab_number);
// `options`, then `more`: a claim's options with some added.
std::vector<std::string> with(std::vector<std::string> options,
                              const std::vector<std::string>& more);

std::string lab_executable(int lab_number);
// The host's root file system: its device as "MAJOR:MINOR" (the host's
// numbers, "0:N" when no disk holds it) and its type, for the probe's host-disk.
std::pair<std::string, std::string> host_root_disk();
// The probe as the container sees it: inside the rootfs from lab 02 on,
// where the container has its own root; the host's copy before.
std::string probe_path(int lab_number);
// The probe with `args`, as this grader's lab sees it: a command line.
std::vector<std::string> probe(std::vector<std::string> args);
std::string rootfs_dir();
std::string bin_dir();

struct Result {
    int status = -1;  // the runtime's exit status (128+n for signal n)
    std::string out, err;
    bool timed_out = false;  // killed for time (the claim has a hang note already)
};

// An exit status in the kernel's and the runtime's terms: "125 (the runtime
// failed)", "137 (killed by SIGKILL)".
std::string status_text(int status);
// A note for a run that should have ended with `expected`: the status it
// ended with and the runtime's own last stderr line; a 125 where the
// command should have run is "did not start".
std::string ran(const Result& r, int expected);
// A note for a run whose stderr should have said `wanted`: its last line.
std::string says(const Result& r, const std::string& wanted);
// A run should end with `expected` (`what`: the run, in a few words).
void expect_status(const Result& r, int expected, const std::string& what);

// Runs a lab to completion (stdin closed) and returns its status and output.
Result run(int lab_number, const std::vector<std::string>& options,
           const std::vector<std::string>& command,
           std::chrono::seconds timeout = std::chrono::seconds(30));

// The lab with pipes on 0, 1 and 2 (`in`, `out`, `err` get our ends), in
// its own process group; returns its PID.
pid_t spawn(int lab_number, const std::vector<std::string>& options,
            const std::vector<std::string>& command, nslab::Fd& in, nslab::Fd& out, nslab::Fd& err);
// Waits for `pid` with a deadline, killing it there; its exit status (128+n
// for signal n).
int wait_with_timeout(pid_t pid, std::chrono::seconds timeout, bool* timed_out);
// The next line from `fd` ("" at end of file or after `timeout`); `buffered`
// keeps what was read past it.
std::string read_line(int fd, std::string& buffered, std::chrono::seconds timeout);

// A container kept running for inspection. start() returns once the command
// printed its first line (the probe's "ready PID"), so it is set up and
// running; the destructor kills whatever is left.
class Running {
  public:
    static Running start(int lab_number, std::vector<std::string> options,
                         const std::vector<std::string>& command,
                         std::chrono::seconds timeout = std::chrono::seconds(30));
    Running(Running&&) noexcept;
    Running& operator=(Running&&) = delete;
    ~Running();

    pid_t runtime_pid() const { return runtime_; }
    pid_t container_pid() const { return container_; }  // host PID, from --pid-file
    const std::string& pid_file() const { return pid_file_; }
    const std::string& first_line() const { return first_line_; }

    std::string read_line(std::chrono::seconds timeout = std::chrono::seconds(10));
    void signal_runtime(int sig);
    void close_stdin();
    // Waits for the runtime to end; returns its exit status and all output.
    Result finish(std::chrono::seconds timeout = std::chrono::seconds(30));

  private:
    Running() = default;
    pid_t runtime_ = -1;
    pid_t container_ = -1;
    std::string first_line_;
    std::string pid_file_;
    nslab::Fd stdin_, stdout_, stderr_;
    std::string out_buffer_;
    bool finished_ = false;
};

// Waits for the runtime of `c`; it should end with `expected`.
void expect_ends(Running& c, int expected, const std::string& what);

// A new directory /tmp/nslab-grader-XXXXXX (mode 0755, so a user
// namespace's root may look in), removed with all it holds at the end; with
// a copy of the rootfs in it when asked: a private rootfs a claim may change.
class TempDir {
  public:
    enum class Holding { nothing, rootfs };
    explicit TempDir(Holding holding = Holding::nothing);
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// While one is alive, run() and Running::start() start the lab as this user
// (uid, gid, no supplementary groups), not as the grader: rootless claims.
class RunAs {
  public:
    RunAs(uid_t uid, gid_t gid);
    RunAs(const RunAs&) = delete;
    RunAs& operator=(const RunAs&) = delete;
    ~RunAs();
};

// Host-side views.
std::map<std::string, ino_t> namespaces_of(pid_t pid);
std::vector<pid_t> nspid_of(pid_t pid);
std::string run_host(const std::string& shell_command);  // stdout of `sh -c`

// `nslab image build` and its store, from the graded tree's own nslab-tool
// (its RUN steps run in that tree's lab 10). Each image made here is removed
// at the end, and each podman image named in podman_images.
struct ImageBuilds {
    std::string tool;
    std::string prefix;
    std::vector<std::string> images, podman_images;
    ImageBuilds();
    ImageBuilds(const ImageBuilds&) = delete;
    ImageBuilds& operator=(const ImageBuilds&) = delete;
    ~ImageBuilds();
    // `nslab image build` of DIR: what it printed, then "status N".
    std::string build(const std::string& name, const std::string& dockerfile,
                      const std::string& dir);
    // `nslab image save NAME` into `archive`, then `podman load` of it:
    // "" when both worked (podman's name in podman_images), else the line
    // that failed.
    std::string load_into_podman(const std::string& name, const std::string& archive);
};
// "status N" at the end of a build's output: whether N is 0; `last` gets
// the line before it (the failure's one line).
bool built(const std::string& output, std::string* last);
// "key: value" lines into a map (the probe's and lab 00's output).
std::map<std::string, std::string> key_values(const std::string& text);

// The rootless test user: NSLAB_ROOTLESS_UID, or the first uid from 59999
// up that no account has (its gid is the same number); and a check, failing
// the claim with a clear line, that it can run the lab and read the rootfs.
uid_t rootless_uid();
void expect_reachable(uid_t uid, int lab_number);

}  // namespace grader

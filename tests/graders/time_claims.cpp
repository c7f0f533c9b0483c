// Lab 07's claims: the time namespace moves CLOCK_MONOTONIC and
// CLOCK_BOOTTIME by the offsets, never CLOCK_REALTIME. They run against
// lab 08's executable too.
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <map>
#include <sstream>
#include <string>

#include "harness.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

using namespace grader;

namespace {

constexpr long long monotonic_offset = 3600;  // an hour
constexpr long long boottime_offset = 86400;  // a day: tells the two clocks apart

std::vector<std::string> offsets_options() {
    return {"--net",
            "none",
            "--monotonic-offset",
            std::to_string(monotonic_offset),
            "--boottime-offset",
            std::to_string(boottime_offset)};
}

double clock_now(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// "uptime: 123.45 678.9" and "boottime: 123.456" alike: the first number.
double number(const std::map<std::string, std::string>& fields, const std::string& key) {
    auto it = fields.find(key);
    return it == fields.end() ? NAN : std::stod(it->second);
}

// The host's reading of a clock around a run, and the container's reading
// inside it, minus the expected offset, must fall between the two (with a
// second of slack for rounding in /proc/uptime).
void expect_moved_by(const std::string& what, double before, double inside, double after,
                     double offset) {
    EXPECT_GE(inside - offset, before - 1.0)
        << what << " inside should be the host's plus " << offset << " s: host read " << before
        << " before the run, the container read " << inside;
    EXPECT_LE(inside - offset, after + 1.0)
        << what << " inside should be the host's plus " << offset << " s: host read " << after
        << " after the run, the container read " << inside;
}

// /proc/PID/timens_offsets: "monotonic  3600  0" lines, clock -> seconds.
std::map<std::string, long long> offsets_of(const std::string& text) {
    std::istringstream lines(text);
    std::map<std::string, long long> offsets;
    std::string clock;
    long long seconds = 0, nanoseconds = 0;
    while (lines >> clock >> seconds >> nanoseconds) offsets[clock] = seconds;
    return offsets;
}

}  // namespace

TEST(Time, UptimeMovesByTheBoottimeOffset) {
    claim(3, "lab07 step 2 (write the offsets)");
    double before = clock_now(CLOCK_BOOTTIME);
    Result r = run(lab(), offsets_options(), probe({"cat", "/proc/uptime"}));
    double after = clock_now(CLOCK_BOOTTIME);
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    double uptime = std::stod(r.out);
    expect_moved_by("/proc/uptime", before, uptime, after, boottime_offset);
}

TEST(Time, MonotonicAndBoottimeMoveRealtimeDoesNot) {
    claim(3, "lab07 step 2 (what a time namespace moves)");
    double mono_before = clock_now(CLOCK_MONOTONIC), boot_before = clock_now(CLOCK_BOOTTIME);
    double real_before = clock_now(CLOCK_REALTIME);
    Result r = run(lab(), offsets_options(), probe({"clocks"}));
    double mono_after = clock_now(CLOCK_MONOTONIC), boot_after = clock_now(CLOCK_BOOTTIME);
    double real_after = clock_now(CLOCK_REALTIME);
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto fields = key_values(r.out);
    expect_moved_by("CLOCK_MONOTONIC", mono_before, number(fields, "monotonic"), mono_after,
                    monotonic_offset);
    expect_moved_by("CLOCK_BOOTTIME", boot_before, number(fields, "boottime"), boot_after,
                    boottime_offset);
    expect_moved_by("CLOCK_REALTIME (never moved: no time zones, no wall clock)", real_before,
                    number(fields, "realtime"), real_after, 0);
}

TEST(Time, OffsetsShowInProc) {
    claim(2, "lab07 step 2 (one write, both clocks)");
    auto c = Running::start(lab(), offsets_options(), probe({"hold"}));
    const std::string path = "/proc/" + std::to_string(c.container_pid()) + "/timens_offsets";
    const std::string host_view = nslab::sys::read_file(path);
    auto offsets = offsets_of(host_view);
    EXPECT_EQ(offsets["monotonic"], monotonic_offset) << path << " reads:\n" << host_view;
    EXPECT_EQ(offsets["boottime"], boottime_offset) << path << " reads:\n" << host_view;

    Result r = run(lab(), offsets_options(), probe({"offsets"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto inside = key_values(r.out);
    EXPECT_EQ(inside["monotonic"], std::to_string(monotonic_offset))
        << "inside, /proc/self/timens_offsets reads:\n"
        << r.out;
    EXPECT_EQ(inside["boottime"], std::to_string(boottime_offset))
        << "CLOCK_BOOTTIME moved by the offset"
        << note("boottime offset " + std::to_string(boottime_offset),
                "boottime " + inside["boottime"]);
}

TEST(Time, ChildEntersTheRuntimeStays) {
    claim(3, "lab07 step 1 (unshare: time_for_children)");
    auto c = Running::start(lab(), offsets_options(), probe({"hold"}));
    auto host = namespaces_of(::getpid());
    auto inside = namespaces_of(c.container_pid());
    auto runtime = namespaces_of(c.runtime_pid());
    ASSERT_TRUE(host.count("time")) << "this kernel has no time namespaces";
    EXPECT_NE(inside["time"], host["time"]) << "the container should be in a new time namespace";
    EXPECT_EQ(inside["time_for_children"], inside["time"])
        << "and its children stay in it (time_for_children)";
    EXPECT_EQ(runtime["time"], host["time"])
        << "unshare(CLONE_NEWTIME) does not move the caller: the runtime stays in the host's "
           "time namespace";
    EXPECT_EQ(runtime["time_for_children"], inside["time"])
        << "the runtime's time_for_children is the namespace its child entered";
}

TEST(Time, LaterProcessSeesTheSameOffsets) {
    claim(2, "lab07 handout: offsets belong to the namespace");
    auto c = Running::start(lab(), offsets_options(), probe({"hold"}));
    // A process that joins later (setns(2), as lab 09 does) gets the same
    // clocks: the offsets are the namespace's, fixed when the first entered.
    auto [read_end, write_end] = nslab::sys::pipe2(0);
    double before = clock_now(CLOCK_BOOTTIME);
    pid_t joiner = nslab::sys::fork();
    if (joiner == 0) {
        int ns = ::open(("/proc/" + std::to_string(c.container_pid()) + "/ns/time").c_str(),
                        O_RDONLY | O_CLOEXEC);
        if (ns == -1 || ::setns(ns, CLONE_NEWTIME) == -1) ::_exit(1);
        std::string text = std::to_string(clock_now(CLOCK_BOOTTIME));
        ssize_t ignored = ::write(write_end.get(), text.data(), text.size());
        (void)ignored;
        ::_exit(0);
    }
    write_end.reset();
    std::string text;
    char buffer[64];
    for (ssize_t n; (n = ::read(read_end.get(), buffer, sizeof buffer)) > 0;)
        text.append(buffer, static_cast<size_t>(n));
    int status = nslab::sys::waitpid(joiner, 0);
    double after = clock_now(CLOCK_BOOTTIME);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0 && !text.empty())
        << "setns into the container's time namespace failed";
    expect_moved_by("CLOCK_BOOTTIME of a process that joined later", before, std::stod(text), after,
                    boottime_offset);
}

TEST(Time, OffsetsWithinTheKernelsLimits) {
    claim(2, "lab07 handout: the kernel's limits");
    // Back to half the uptime so far: allowed (the clock stays >= 0).
    long long uptime = static_cast<long long>(clock_now(CLOCK_BOOTTIME));
    long long half_back = -uptime / 2;
    double before = clock_now(CLOCK_BOOTTIME);
    Result ok = run(lab(), {"--net", "none", "--boottime-offset", std::to_string(half_back)},
                    probe({"cat", "/proc/uptime"}));
    double after = clock_now(CLOCK_BOOTTIME);
    ASSERT_EQ(ok.status, 0) << "a negative offset that keeps the clock >= 0 is allowed: " << ok.err;
    expect_moved_by("/proc/uptime", before, std::stod(ok.out), after,
                    static_cast<double>(half_back));
    // Before boot: refused in the parent, with the option named.
    std::string too_far = std::to_string(-uptime - 3600);
    Result refused = run(lab(), {"--net", "none", "--boottime-offset", too_far}, {"/bin/true"});
    EXPECT_EQ(refused.status, 2) << "a bad option value exits 2: " << refused.err;
    std::string first_line = refused.err.substr(0, refused.err.find('\n'));
    EXPECT_HAS(first_line, "--boottime-offset") << "the message names the option: " << refused.err;
    EXPECT_HAS(first_line, too_far) << "and the value: " << refused.err;
}

TEST(Time, RootlessContainerGetsItsOffsets) {
    claim(2, "lab07 step 3 (with --userns, inside)");
    const uid_t uid = rootless_uid();
    ASSERT_NO_FATAL_FAILURE(expect_reachable(uid, lab())) << "the test user reaches the lab";
    RunAs user(uid, uid);
    double before = clock_now(CLOCK_BOOTTIME);
    Result r = run(lab(), {"--userns", "--boottime-offset", std::to_string(boottime_offset)},
                   probe({"cat", "/proc/uptime"}));
    double after = clock_now(CLOCK_BOOTTIME);
    ASSERT_EQ(r.status, 0) << "a rootless container (uid " << uid
                           << ") with a boottime offset should run: " << r.err;
    expect_moved_by("/proc/uptime, rootless", before, std::stod(r.out), after, boottime_offset);
}

TEST(Time, WithUsernsTheContainersUserNamespaceOwnsIt) {
    claim(1, "lab07 step 3 (who owns the namespace)");
    // Under --init, PID 1 never execs: only an explicit setns(2) puts it in.
    auto c =
        Running::start(lab(), {"--userns", "--init", "--boottime-offset", "60"}, probe({"hold"}));
    auto inside = namespaces_of(c.container_pid());
    nslab::Fd time_ns(::open(("/proc/" + std::to_string(c.container_pid()) + "/ns/time").c_str(),
                             O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(time_ns) << "cannot open the container's /proc/PID/ns/time";
    nslab::Fd owner(::ioctl(time_ns.get(), NS_GET_USERNS));
    ASSERT_TRUE(owner) << "ioctl(NS_GET_USERNS) on the time namespace failed";
    struct stat st {};
    ::fstat(owner.get(), &st);
    EXPECT_EQ(st.st_ino, inside["user"])
        << "with --userns the time namespace must belong to the container's user namespace "
           "(made by the child), not to the host's";
    EXPECT_NE(inside["time"], namespaces_of(::getpid())["time"])
        << "the container's PID 1 (the --init) must be in the new time namespace itself, not "
           "only its children: the child enters it with setns(2)";
}

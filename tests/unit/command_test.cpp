// nslab::command, the one way the project runs a command: exit statuses,
// signals, both pipes read at once, a clear error for a command that cannot
// run, and (as root) a command run as another user.
#include "nslab/command.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>

#include <gtest/gtest.h>

using namespace nslab;
using command::Stream;

namespace {

command::Output sh(const std::string& script, command::Spec spec = {}) {
    spec.argv = {"/bin/sh", "-c", script};
    spec.out = Stream::pipe();
    spec.err = Stream::pipe();
    return command::run(spec);
}

}  // namespace

TEST(Command, ExitStatusIsTheCommands) {
    auto ran = sh("exit 3");
    ASSERT_TRUE(WIFEXITED(ran.status));
    EXPECT_EQ(exit_status_of(ran.status), 3);
    EXPECT_EQ(exit_status_of(sh("true").status), 0);
}

TEST(Command, KilledBySignal) {
    auto ran = sh("kill -TERM $$");
    ASSERT_TRUE(WIFSIGNALED(ran.status));
    EXPECT_EQ(WTERMSIG(ran.status), SIGTERM);
    EXPECT_EQ(exit_status_of(ran.status), 128 + SIGTERM);
}

TEST(Command, CapturesBothPipes) {
    auto ran = sh("echo out; echo err >&2");
    EXPECT_EQ(ran.out, "out\n");
    EXPECT_EQ(ran.err, "err\n");
}

TEST(Command, ReadsBothPipesAtOnce) {
    // More than a pipe holds on each, stderr after stdout: read one after
    // the other, the command would block on stderr and never end.
    auto ran = sh("head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2; echo done >&2");
    EXPECT_EQ(ran.out.size(), 300000u);
    EXPECT_EQ(ran.err.size(), 300005u);
    EXPECT_EQ(exit_status_of(ran.status), 0);
}

TEST(Command, FeedsAPipedStdin) {
    command::Child child =
        command::start({.argv = {"/bin/sh", "-c", "read line; echo \"got $line\""},
                        .in = Stream::pipe(),
                        .out = Stream::pipe()});
    ASSERT_EQ(::write(child.in.get(), "hello\n", 6), 6);
    child.in.reset();
    char buffer[64] = {};
    ssize_t n = ::read(child.out.get(), buffer, sizeof buffer - 1);
    EXPECT_EQ(std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0), "got hello\n");
    EXPECT_EQ(command::wait(child.pid), 0);
}

TEST(Command, ANullStdinIsAtItsEnd) {
    EXPECT_EQ(sh("cat", {.in = Stream::null()}).out, "");
}

TEST(Command, ACommandThatDoesNotExistIsOneClearLine) {
    try {
        command::start({.argv = {"/nonexistent/nslab-command"}});
        FAIL() << "started a command that does not exist";
    } catch (const command::NotStarted& e) {
        EXPECT_EQ(std::string(e.what()),
                  "cannot run '/nonexistent/nslab-command': No such file or directory");
        EXPECT_EQ(e.status(), 127);
        EXPECT_EQ(e.code().value(), ENOENT);
    }
    // Looked up in PATH: the same line.
    EXPECT_THROW(command::run({.argv = {"nslab-no-such-command"}}), command::NotStarted);
}

TEST(Command, AFileThatIsNotExecutableIs126) {
    try {
        command::start({.argv = {"/dev/null"}});
        FAIL() << "ran /dev/null";
    } catch (const command::NotStarted& e) {
        EXPECT_EQ(e.status(), 126);
        EXPECT_EQ(std::string(e.what()), "cannot run '/dev/null': Permission denied");
    }
}

TEST(Command, ASetUpThatFailsIsReportedWithItsStatus) {
    try {
        command::start(
            {.argv = {"true"},
             .before_exec =
                 [] { throw std::system_error(EPERM, std::generic_category(), "join the cgroup"); },
             .setup_failed = 120});
        FAIL() << "ran although its set-up failed";
    } catch (const command::NotStarted& e) {
        EXPECT_EQ(e.status(), 120);
        EXPECT_EQ(e.code().value(), EPERM);
        EXPECT_EQ(std::string(e.what()),
                  "cannot run 'true': join the cgroup: Operation not permitted");
    }
    try {
        command::start({.argv = {"true"}, .directory = "/nonexistent"});
        FAIL() << "ran in a directory that does not exist";
    } catch (const command::NotStarted& e) {
        EXPECT_EQ(e.status(), 125);
        EXPECT_EQ(std::string(e.what()),
                  "cannot run 'true' in /nonexistent: No such file or directory");
    }
}

TEST(Command, DirectoryAndEnvironment) {
    auto ran = sh("pwd; echo \"$NSLAB_COMMAND_TEST\"; echo \"$HOME\"",
                  {.directory = "/", .environment = {{"NSLAB_COMMAND_TEST", "set"}}});
    const char* home = std::getenv("HOME");
    EXPECT_EQ(ran.out, "/\nset\n" + std::string(home ? home : "") + "\n");
}

TEST(Command, APipeForOneChildIsNotInheritedByTheNext) {
    // Every pipe start() makes is close-on-exec, the ones for other
    // children too: a second command does not hold the first one's stdin.
    command::Child first = command::start({.argv = {"cat"}, .in = Stream::pipe()});
    auto ran = sh("ls /proc/$$/fd");
    EXPECT_EQ(("\n" + ran.out).find("\n" + std::to_string(first.in.get()) + "\n"),
              std::string::npos)
        << "the second command holds the first one's stdin (fd " << first.in.get()
        << "): " << ran.out;
    first.in.reset();
    EXPECT_EQ(command::wait(first.pid), 0);
}

TEST(Command, OwnProcessGroup) {
    command::Child child = command::start({.argv = {"sleep", "5"}, .own_process_group = true});
    EXPECT_EQ(::getpgid(child.pid), child.pid);
    ::kill(child.pid, SIGKILL);
    command::wait(child.pid);
}

TEST(Command, WaitUntilADeadline) {
    command::Child slow = command::start({.argv = {"sleep", "30"}});
    auto start = std::chrono::steady_clock::now();
    auto ended = command::wait_until(slow.pid, start + std::chrono::milliseconds(100));
    EXPECT_TRUE(ended.timed_out);
    ASSERT_TRUE(WIFSIGNALED(ended.status));
    EXPECT_EQ(WTERMSIG(ended.status), SIGKILL);

    command::Child fast = command::start({.argv = {"/bin/sh", "-c", "exit 4"}});
    ended =
        command::wait_until(fast.pid, std::chrono::steady_clock::now() + std::chrono::seconds(30));
    EXPECT_FALSE(ended.timed_out);
    EXPECT_EQ(exit_status_of(ended.status), 4);
}

TEST(Command, AsAnotherUser) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (CI runs it as root)";
    auto ran = sh("id -u; id -g; id -G", {.as_user = std::pair<uid_t, gid_t>{65534, 65533}});
    EXPECT_EQ(ran.out, "65534\n65533\n65533\n") << ran.err;
}

#include "nslab/cli.hpp"

#include <gtest/gtest.h>

#include "nslab/command.hpp"
#include "nslab/errors.hpp"
#include "nslab/rootfs.hpp"

using namespace nslab;

namespace {
Config parse(int lab, std::vector<const char*> args) {
    args.insert(args.begin(), "labXX");
    return parse_command_line(lab, static_cast<int>(args.size()), args.data()).config;
}
std::string error_of(int lab, std::vector<const char*> args) {
    try {
        parse(lab, args);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST(Cli, CommandAfterDoubleDash) {
    Config cfg = parse(1, {"--init", "--pid-file", "/tmp/p", "--", "sh", "-c", "exit 3"});
    EXPECT_TRUE(cfg.init);
    EXPECT_EQ(cfg.pid_file, "/tmp/p");
    EXPECT_EQ(cfg.command, (std::vector<std::string>{"sh", "-c", "exit 3"}));
    EXPECT_EQ(cfg.program, "lab01_pid");
    EXPECT_EQ(cfg.id.size(), 8u);
}

TEST(Cli, Errors) {
    EXPECT_EQ(error_of(1, {}), "missing command: give it after --, e.g. -- /bin/sh");
    EXPECT_EQ(error_of(1, {"--bogus", "--", "true"}), "unrecognized option '--bogus'");
    EXPECT_EQ(error_of(1, {"--hostname", "x", "--", "true"}),
              "option '--hostname' comes with lab 03 (uts); use lab03_uts or a later lab");
    EXPECT_EQ(error_of(8, {"--host", "x", "--", "true"}), "unrecognized option '--host'")
        << "abbreviations are off";
    EXPECT_EQ(error_of(0, {"1", "2", "3"}), "at most two PIDs, got 3");
    EXPECT_EQ(error_of(9, {"--", "true"}),
              "give the container to join: --pid PID or --pid-file FILE");
}

TEST(Cli, LaterLabsTakeEarlierOptions) {
    Config cfg = parse(8, {"--hostname", "box", "--net", "none", "--memory", "64M", "--", "true"});
    EXPECT_EQ(cfg.hostname, "box");
    EXPECT_EQ(cfg.net, NetMode::none);
    EXPECT_EQ(*cfg.memory, 64u << 20);
    EXPECT_EQ(parse(4, {"--", "true"}).net, NetMode::bridge) << "bridge is lab 04's default";
}

TEST(Cli, LayersOfALab) {
    Config cfg = parse(3, {"--", "true"});
    EXPECT_TRUE(cfg.has(Layer::pid));
    EXPECT_TRUE(cfg.has(Layer::uts));
    EXPECT_FALSE(cfg.has(Layer::net));
    EXPECT_FALSE(parse(9, {"--pid", "1", "--", "true"}).has(Layer::pid))
        << "lab 09 joins, it builds nothing";
}

TEST(ExitStatus, AsRuntimesDo) {
    EXPECT_EQ(exit_status_of(3 << 8), 3);
    EXPECT_EQ(exit_status_of(15), 128 + 15);  // killed by SIGTERM
    EXPECT_EQ(exit_status_for_exec_error(ENOENT), 127);
    EXPECT_EQ(exit_status_for_exec_error(EACCES), 126);
}

TEST(Rootfs, AppletLinksAreRelative) {
    EXPECT_EQ(rootfs::applet_link_target("bin/sh"), "../bin/busybox");
    EXPECT_EQ(rootfs::applet_link_target("usr/bin/awk"), "../../bin/busybox");
    EXPECT_EQ(rootfs::applet_link_target("linuxrc"), "bin/busybox");
}

TEST(Cli, HelpHasAShortForm) {
    for (const char* flag : {"-h", "--help"}) {
        std::vector<const char*> args{"labXX", flag};
        testing::internal::CaptureStdout();
        ParsedCommandLine parsed =
            parse_command_line(3, static_cast<int>(args.size()), args.data());
        const std::string out = testing::internal::GetCapturedStdout();
        EXPECT_EQ(parsed.exit_now, 0) << flag << " must print the help and exit 0";
        EXPECT_NE(out.find("--hostname"), std::string::npos) << flag << " printed: " << out;
    }
}

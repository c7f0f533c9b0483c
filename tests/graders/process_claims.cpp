// Lab 00's claims: lab00_process agrees with what the kernel's own tools say.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "harness.hpp"
#include "nslab/command.hpp"
#include "nslab/observe.hpp"
#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

using namespace grader;

namespace {

// A process kept alive for the claim, in the namespaces `unshare` gives it.
class Sleeper {
  public:
    explicit Sleeper(const std::vector<std::string>& unshare_flags) {
        std::vector<std::string> argv{"unshare"};
        argv.insert(argv.end(), unshare_flags.begin(), unshare_flags.end());
        argv.insert(argv.end(), {"sleep", "60"});
        pid_ = nslab::command::start({.argv = argv}).pid;
        // With --fork, the sleeper is unshare's child; wait until it exists.
        target_ = pid_;
        bool forks = false;
        for (const auto& flag : unshare_flags) forks |= flag == "--fork";
        for (int i = 0; i < 500; ++i) {
            auto kids = nslab::procfs::children(pid_);
            auto status = nslab::observe::status(forks && !kids.empty() ? kids.front() : pid_);
            if (status.name == "sleep") {
                target_ = forks ? kids.front() : pid_;
                return;
            }
            ::usleep(10000);
        }
    }
    ~Sleeper() {
        ::kill(pid_, SIGKILL);
        if (target_ != pid_) ::kill(target_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    pid_t pid() const { return target_; }

  private:
    pid_t pid_ = -1, target_ = -1;
};

std::string str(long value) {
    return std::to_string(value);
}

}  // namespace

TEST(Process, DescribesItself) {
    claim(2, "lab00 step 2 (identify)");
    Result r = run(0, {}, {});
    ASSERT_EQ(r.status, 0) << "lab00_process with no PID should describe itself; stderr: " << r.err;
    auto fields = key_values(r.out);
    EXPECT_EQ(fields["name"], "lab00_process") << "expected its own command name";
    EXPECT_EQ(fields["ppid"], str(::getpid())) << "its parent is this grader";
    ASSERT_NE(fields["pid"], "") << "no 'pid:' line in:\n" << r.out;
    EXPECT_EQ(fields["nspid"], fields["pid"])
        << "a process in the host's PID namespace has one NSpid entry, its PID";
    for (const auto& [type, inode] : namespaces_of(::getpid()))
        EXPECT_EQ(fields["ns." + type], str(static_cast<long>(inode)))
            << "it shares every namespace with its parent, the grader: ns." << type;
}

TEST(Process, InodesAgreeWithReadlink) {
    claim(3, "lab00 step 1 (namespace_inode)");
    Sleeper sleeper({"--net", "--uts"});
    Result r = run(0, {}, {str(sleeper.pid())});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto fields = key_values(r.out);
    for (auto type : nslab::procfs::namespace_types) {
        std::string link =
            run_host("readlink /proc/" + str(sleeper.pid()) + "/ns/" + std::string(type));
        size_t open = link.find('['), close = link.find(']');
        ASSERT_NE(open, std::string::npos)
            << "readlink /proc/PID/ns/" << type << " names no inode"
            << note(std::string(type) + ":[INODE]", link.empty() ? "nothing" : link);
        EXPECT_EQ(fields["ns." + std::string(type)], link.substr(open + 1, close - open - 1))
            << "readlink /proc/PID/ns/" << type << " says " << link;
    }
}

TEST(Process, NSpidAndPPidAgreeWithPs) {
    claim(3, "lab00 step 2 (identify: NSpid, PPid)");
    Sleeper sleeper({"--pid", "--fork"});
    Result r = run(0, {}, {str(sleeper.pid())});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto fields = key_values(r.out);
    EXPECT_EQ(fields["nspid"], str(sleeper.pid()) + " 1")
        << "a process that is PID 1 of a new PID namespace shows two PIDs: ours, then 1";
    std::string ppid = run_host("ps -o ppid= -p " + str(sleeper.pid()));
    EXPECT_EQ(fields["ppid"], std::to_string(std::stol(ppid))) << "ps -o ppid says " << ppid;
    std::string name = run_host("ps -o comm= -p " + str(sleeper.pid()));
    EXPECT_EQ(fields["name"] + "\n", name)
        << "the name agrees with ps -o comm" << note("ps -o comm: " + name, fields["name"]);
}

TEST(Process, AgreesWithPsNamespaceColumns) {
    claim(2, "lab00 step 1 (namespace_inode)");
    Sleeper sleeper({"--ipc", "--mount"});
    Result r = run(0, {}, {str(sleeper.pid())});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto fields = key_values(r.out);
    for (const char* type : {"pid", "mnt", "net", "uts", "ipc", "user", "cgroup"}) {
        std::string column =
            run_host(std::string("ps -o ") + type + "ns= -p " + str(sleeper.pid()));
        EXPECT_EQ(fields[std::string("ns.") + type], std::to_string(std::stoull(column)))
            << "ps -o " << type << "ns says " << column;
    }
}

TEST(Process, ComparesTwoProcesses) {
    claim(3, "lab00 step 3 (shared_namespaces)");
    Sleeper sleeper({"--net", "--uts"});
    Result r = run(0, {}, {str(::getpid()), str(sleeper.pid())});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto fields = key_values(r.out);
    EXPECT_EQ(fields["different"], "net uts")
        << "`unshare --net --uts` gave the sleeper new net and uts namespaces only";
    EXPECT_EQ(fields["shared"], "cgroup ipc mnt pid pid_for_children time time_for_children user")
        << "every other namespace is the grader's";
}

TEST(Process, BadPidGivesOneClearLine) {
    claim(1, "lab00 handout: usage");
    Result gone = run(0, {}, {"999999999"});
    EXPECT_EQ(gone.status, 125) << "a PID that does not exist is a failure (125)";
    EXPECT_HAS(gone.err, "999999999") << "the message names the PID: " << gone.err;
    EXPECT_EQ(std::count(gone.err.begin(), gone.err.end(), '\n'), 1) << "one line: " << gone.err;
    Result bad = run(0, {}, {"abc"});
    EXPECT_EQ(bad.status, 2) << "a PID that is not a number is a usage error (2)";
    EXPECT_NE(bad.err.find("Try 'lab00_process --help'"), std::string::npos)
        << "the error ends with the hint" << says(bad, "Try 'lab00_process --help'");
}

// probe: a static helper the graders run inside containers. Each subcommand
// prints one fact the way a grader parses it ("key: value" lines), so a
// claim never depends on which busybox applets a rootfs happens to have.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "probe.hpp"

namespace probe {

struct Entry {
    Command command;
    std::string help;
};
std::map<std::string, Entry>& registry() {
    static std::map<std::string, Entry> commands;
    return commands;
}

Register::Register(const std::string& name, Command command, const std::string& help) {
    registry()[name] = {std::move(command), help};
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void hold() {
    // Stay alive until the grader closes our stdin.
    std::cout << "ready " << ::getpid() << std::endl;
    char buffer[256];
    while (::read(0, buffer, sizeof buffer) > 0) {}
}

}  // namespace probe

namespace {

using probe::Args;
using probe::hold;
using probe::slurp;

int cmd_pid(const Args&) {
    std::cout << "pid: " << ::getpid() << "\nppid: " << ::getppid() << "\n";
    return 0;
}

int cmd_ns(const Args&) {
    for (const char* type : {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time",
                             "time_for_children", "user", "uts"}) {
        struct stat st {};
        std::string path = std::string("/proc/self/ns/") + type;
        if (::stat(path.c_str(), &st) == 0) std::cout << type << ": " << st.st_ino << "\n";
    }
    return 0;
}

int cmd_hostname(const Args&) {
    struct utsname names {};
    ::uname(&names);
    std::cout << "hostname: " << names.nodename << "\ndomainname: " << names.domainname << "\n";
    return 0;
}

int cmd_cat(const Args& args) {
    std::cout << slurp(args.at(0));
    return 0;
}

int cmd_uid(const Args&) {
    std::istringstream status(slurp("/proc/self/status"));
    for (std::string line; std::getline(status, line);)
        if (line.rfind("Uid:", 0) == 0 || line.rfind("Gid:", 0) == 0 || line.rfind("Cap", 0) == 0)
            std::cout << line << "\n";
    return 0;
}

int cmd_fds(const Args&) {
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) return 1;
    int own = ::dirfd(dir);
    while (dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] == '.' || std::atoi(entry->d_name) == own) continue;
        char target[512] = {};
        std::string link = std::string("/proc/self/fd/") + entry->d_name;
        ::readlink(link.c_str(), target, sizeof target - 1);
        std::cout << "fd: " << entry->d_name << " " << target << "\n";
    }
    ::closedir(dir);
    return 0;
}

int cmd_clocks(const Args&) {
    for (auto [name, id] :
         {std::pair{"monotonic", CLOCK_MONOTONIC}, std::pair{"boottime", CLOCK_BOOTTIME},
          std::pair{"realtime", CLOCK_REALTIME}}) {
        timespec ts{};
        ::clock_gettime(id, &ts);
        std::printf("%s: %lld.%09ld\n", name, static_cast<long long>(ts.tv_sec), ts.tv_nsec);
    }
    std::printf("uptime: %s", slurp("/proc/uptime").c_str());
    return 0;
}

int cmd_statfs(const Args& args) {
    struct statfs fs {};
    if (::statfs(args.at(0).c_str(), &fs) != 0) {
        std::perror(args.at(0).c_str());
        return 1;
    }
    std::printf("f_type: 0x%lx\n", static_cast<unsigned long>(fs.f_type));
    return 0;
}

int cmd_pids(const Args&) {
    DIR* dir = ::opendir("/proc");
    if (!dir) return 1;
    while (dirent* entry = ::readdir(dir))
        if (std::atoi(entry->d_name) > 0) std::cout << "pid: " << entry->d_name << "\n";
    ::closedir(dir);
    return 0;
}

int cmd_hold(const Args&) {
    hold();
    return 0;
}

int cmd_exit(const Args& args) {
    return std::stoi(args.at(0));
}

int cmd_raise(const Args& args) {
    int sig = std::stoi(args.at(0));
    std::signal(sig, SIG_DFL);
    ::kill(::getpid(), sig);
    // PID 1 of a namespace ignores its own default-action signals.
    std::cout << "still alive after signal " << sig << "\n";
    return 0;
}

// Makes N orphans that exit at once: their parent exits first, so they are
// re-parented to PID 1, which must reap them or they stay zombies.
int cmd_zombies(const Args& args) {
    int count = std::stoi(args.at(0));
    pid_t middle = ::fork();
    if (middle == 0) {
        for (int i = 0; i < count; ++i)
            if (::fork() == 0) {
                ::usleep(100000);  // outlive the middle process, then end
                ::_exit(0);
            }
        ::_exit(0);
    }
    ::waitpid(middle, nullptr, 0);
    hold();
    return 0;
}

// Waits for one of the usual termination signals and says which came.
int cmd_signal(const Args&) {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&set, sig);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    std::cout << "ready " << ::getpid() << std::endl;
    int sig = 0;
    ::sigwait(&set, &sig);
    std::cout << "signal: " << sig << std::endl;
    return 128 + sig;
}

const probe::Register r_pid("pid", cmd_pid, "print pid and ppid");
const probe::Register r_ns("ns", cmd_ns, "print the inode of each of our namespaces");
const probe::Register r_hostname("hostname", cmd_hostname, "print hostname and domain name");
const probe::Register r_cat("cat", cmd_cat, "FILE: print a file (e.g. /proc/self/mountinfo)");
const probe::Register r_uid("uid", cmd_uid,
                            "print Uid, Gid and capability lines of /proc/self/status");
const probe::Register r_fds("fds", cmd_fds, "list our open file descriptors");
const probe::Register r_clocks("clocks", cmd_clocks,
                               "print CLOCK_MONOTONIC, BOOTTIME, REALTIME and /proc/uptime");
const probe::Register r_statfs("statfs", cmd_statfs,
                               "PATH: print the filesystem type (statfs f_type)");
const probe::Register r_pids("pids", cmd_pids, "list the PIDs /proc shows");
const probe::Register r_hold("hold", cmd_hold, "print 'ready PID', stay until stdin closes");
const probe::Register r_exit("exit", cmd_exit, "N: exit with status N");
const probe::Register r_raise("raise", cmd_raise, "SIG: send ourselves signal number SIG");
const probe::Register r_zombies("zombies", cmd_zombies, "N: leave N orphans to PID 1, then hold");
const probe::Register r_signal("signal", cmd_signal,
                               "print 'ready PID', wait for a signal, print it, exit 128+N");

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    // Several subcommands in a row: "probe pid , ns , hostname".
    const auto& commands = probe::registry();
    if (args.empty() || !commands.count(args.front())) {
        std::cerr << "usage: probe COMMAND [ARG]... [, COMMAND...]\n";
        for (const auto& [name, command] : commands)
            std::cerr << "  " << name << "  " << command.help << "\n";
        return 2;
    }
    int status = 0;
    size_t i = 0;
    while (i < args.size()) {
        size_t end = i;
        while (end < args.size() && args[end] != ",") ++end;
        Args rest(args.begin() + static_cast<long>(i) + 1, args.begin() + static_cast<long>(end));
        auto it = commands.find(args[i]);
        if (it == commands.end()) {
            std::cerr << "probe: unknown command " << args[i] << "\n";
            return 2;
        }
        try {
            status = it->second.command(rest);
        } catch (const std::exception& e) {
            std::cerr << "probe " << args[i] << ": " << e.what() << "\n";
            return 2;
        }
        std::cout.flush();
        i = end + 1;
    }
    return status;
}

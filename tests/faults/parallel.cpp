// Must hold 4 (issue 10): N containers of the top lab started at once on
// one bridge get unique names, addresses, veths and cgroups, reach each
// other, and leave nothing behind when they end.
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>

#include "faults.hpp"
#include "nslab/command.hpp"
#include "nslab/sys.hpp"

namespace faults {

namespace {

using namespace std::chrono_literals;

std::string shell(const std::string& command) {
    std::string text = nslab::command::output_of({"/bin/sh", "-c", command});
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

struct Seen {
    pid_t container = 0;
    std::string hostname, address, cgroup;
};

// How many values of one field are distinct (empty ones do not count).
template <typename F>
size_t distinct(const std::vector<Seen>& all, F field) {
    std::set<std::string> values;
    for (const auto& s : all)
        if (!field(s).empty()) values.insert(field(s));
    return values.size();
}

}  // namespace

int parallel(int n) {
    const auto started = std::chrono::steady_clock::now();
    const HostState before = snapshot();
    std::vector<std::unique_ptr<Runtime>> runtimes;
    std::set<pid_t> ours;
    for (int i = 0; i < n; ++i) {  // all at once: no one waits for the one before
        Launch launch;
        launch.lab = 8;
        launch.args = {"--pid-file", "/tmp/parallel-" + std::to_string(i) + ".pid", "--",
                       "/bin/probe", "hold"};
        runtimes.push_back(std::make_unique<Runtime>(launch));
        ours.insert(runtimes.back()->pid());
    }
    int ready = 0;
    std::vector<Seen> seen(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        Runtime& rt = *runtimes[static_cast<size_t>(i)];
        if (!rt.wait_for_line("ready", 30s)) {
            std::printf("container %d did not start: %s\n", i, rt.err().c_str());
            continue;
        }
        ++ready;
        Seen& s = seen[static_cast<size_t>(i)];
        s.container =
            std::stoi(nslab::sys::read_file("/tmp/parallel-" + std::to_string(i) + ".pid"));
        const std::string t = "nsenter -t " + std::to_string(s.container);
        s.hostname = shell(t + " -u hostname");
        s.address = shell(t + " -n ip -4 -o addr show dev eth0 | awk '{print $4}'");
        s.cgroup = shell("grep -m1 -E ':(memory|pids)?:|^0::' /proc/" +
                         std::to_string(s.container) + "/cgroup | cut -d: -f3");
    }
    const std::string ports = shell(
        "ip -o link show master nslab0 | awk -F': ' '{print $2}' | "
        "sed 's/@.*//' | sort -u | wc -l");

    // Each container pings the next and the one half-way round: 2N pings,
    // all at once, each bounded (busybox ping inside, its own netns).
    std::ostringstream script;
    for (int i = 0; i < n; ++i)
        for (int step : {1, n / 2}) {
            const Seen& from = seen[static_cast<size_t>(i)];
            const Seen& to = seen[static_cast<size_t>((i + step) % n)];
            std::string address = to.address.substr(0, to.address.find('/'));
            script << "(nsenter -t " << from.container << " -n -m ping -c 1 -W 3 " << address
                   << " >/dev/null 2>&1 && echo ok || echo 'failed " << i << " -> " << address
                   << "') &\n";
        }
    script << "wait\n";
    const std::string pings = shell(script.str());
    int reached = 0, pinged = 0;
    std::istringstream results(pings);
    for (std::string line; std::getline(results, line);) {
        ++pinged;
        if (line == "ok")
            ++reached;
        else
            std::printf("ping %s\n", line.c_str());
    }

    int exited = 0;
    for (auto& rt : runtimes) rt->close_stdin();
    for (auto& rt : runtimes) exited += rt->wait(30s) == 0;
    const std::vector<std::string> left = settle(before, ours, 10s);
    for (const auto& l : left) std::printf("    %s\n", l.c_str());

    if (!seen.empty())
        std::printf("container 0: hostname %s, address %s, cgroup %s\n", seen[0].hostname.c_str(),
                    seen[0].address.c_str(), seen[0].cgroup.c_str());
    const size_t names = distinct(seen, [](const Seen& s) { return s.hostname; });
    const size_t addresses = distinct(seen, [](const Seen& s) { return s.address; });
    const size_t cgroups = distinct(seen, [](const Seen& s) { return s.cgroup; });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf(
        "parallel: %d containers of lab 08 started at once, %d ready; distinct: %zu "
        "hostnames, %zu addresses, %zu cgroups, %s bridge ports; %d/%d pings answered; "
        "%d exited 0; %zu leaks found (%.1f s)\n",
        n, ready, names, addresses, cgroups, ports.c_str(), reached, pinged, exited, left.size(),
        seconds);
    const size_t want = static_cast<size_t>(n);
    int passed = 0, failed = 0;
    for (bool ok :
         {ready == n, names == want, addresses == want, cgroups == want, ports == std::to_string(n),
          reached == pinged && pinged == 2 * n, exited == n, left.empty()})
        (ok ? passed : failed)++;
    std::printf("faults-parallel: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

}  // namespace faults

// Must hold 1 (issue 10): nothing leaks, whichever way a run ends. Every
// lab 01-08 is run to a normal exit, to a crash of its command, to SIGINT
// and SIGTERM of the runtime, and to SIGKILL of the runtime at a random
// moment of its set-up or while the container runs (then `nslab cleanup`,
// as a user would). So is `nslab image build` (row "img"): a RUN that fails,
// SIGINT and SIGTERM of the builder during a RUN, SIGKILL of it at a random
// moment or during a RUN (its lab 10 runtime dies with it). After each run
// the host must be as before it: no image, no build directory, no
// container directory. Lab 10 runs the build's test image half the time,
// from an empty layer store, so a SIGKILL of its set-up may come while the
// image unpacks.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>
#include <vector>

#include <filesystem>
#include <fstream>

#include "faults.hpp"
#include "nslab/labs.hpp"
#include "nslab/sys.hpp"

namespace faults {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

enum class Ending { normal, crash, sigint, sigterm, kill_setup, kill_running };
constexpr Ending endings[] = {Ending::normal,  Ending::crash,      Ending::sigint,
                              Ending::sigterm, Ending::kill_setup, Ending::kill_running};

const char* name_of(Ending e) {
    switch (e) {
        case Ending::normal:
            return "normal";
        case Ending::crash:
            return "crash";
        case Ending::sigint:
            return "SIGINT";
        case Ending::sigterm:
            return "SIGTERM";
        case Ending::kill_setup:
            return "KILL-setup";
        case Ending::kill_running:
            return "KILL-run";
    }
    return "?";
}

// `nslab image build`, in the table as a lab of its own.
constexpr int image_build = -1;

// Every lab that builds a container (labs.hpp), then the image builder.
std::vector<int> build_labs() {
    std::vector<int> numbers;
    for (const auto& lab : nslab::lab_table)
        if (lab.kind == nslab::LabKind::build) numbers.push_back(lab.number);
    numbers.push_back(image_build);
    return numbers;
}

std::string label_of(int lab) {
    char text[8];
    std::snprintf(text, sizeof text, lab == image_build ? "img" : "lab%02d", lab);
    return text;
}

// Two build contexts of busybox alone: one whose RUN exits 3, one whose RUN
// says "ready" and sleeps (the builder's log, its stdout, carries the line).
std::pair<std::string, std::string> build_contexts() {
    namespace fs = std::filesystem;
    const std::string root = fixtures_dir() + "/leaks-build";
    std::error_code ignored;
    fs::remove_all(root, ignored);
    for (const char* dir : {"bin", "proc", "dev", "sys", "tmp"})
        nslab::sys::mkdir_p(root + "/root/" + dir, 0755);
    fs::copy_file(fs::path(bin_dir).parent_path() / "rootfs/bin/busybox",
                  root + "/root/bin/busybox");
    fs::create_symlink("busybox", root + "/root/bin/sh");
    fs::create_symlink("busybox", root + "/root/bin/sleep");
    std::ofstream(root + "/fails.Dockerfile") << "FROM scratch\nCOPY root /\nRUN exit 3\n";
    std::ofstream(root + "/holds.Dockerfile")
        << "FROM scratch\nCOPY root /\nRUN echo ready && exec sleep 30\n";
    return {root + "/fails.Dockerfile", root + "/holds.Dockerfile"};
}

bool killed(Ending e) {
    return e == Ending::kill_setup || e == Ending::kill_running;
}

// A random but reproducible mix of the lab's options, so the faults meet
// every layer's set-up: user namespaces with and without a wide map, cgroup
// limits, time offsets, --init, a pid file the runtime must remove.
std::vector<std::string> options_for(int lab, Ending e, int run, std::mt19937_64& rng) {
    auto coin = [&](double p) { return std::bernoulli_distribution(p)(rng); };
    std::vector<std::string> o;
    // PID 1 takes only signals it handles: SIGINT/SIGTERM need --init.
    if (e == Ending::sigint || e == Ending::sigterm || coin(0.5)) o.push_back("--init");
    // After a SIGKILL nobody can remove a pid file; that is the caller's.
    if (!killed(e))
        o.insert(o.end(), {"--pid-file", "/tmp/faults-" + std::to_string(run) + ".pid"});
    if (nslab::lab_has(lab, nslab::Layer::uts) && coin(0.3))
        o.insert(o.end(), {"--hostname", "f" + std::to_string(run)});
    if (nslab::lab_has(lab, nslab::Layer::net) && coin(0.2)) o.insert(o.end(), {"--net", "none"});
    if (nslab::lab_has(lab, nslab::Layer::user)) {
        int user = static_cast<int>(rng() % 3);
        if (user >= 1) o.push_back("--userns");
        if (user == 2)
            o.insert(o.end(), {"--uid-map", "0:100000:65536", "--gid-map", "0:100000:65536"});
    }
    if (nslab::lab_has(lab, nslab::Layer::cgroup) && coin(0.5))
        o.insert(o.end(), {"--memory", "64M", "--pids", "64", "--cpus", "0.5"});
    if (nslab::lab_has(lab, nslab::Layer::time) && coin(0.5))
        o.insert(o.end(), {"--monotonic-offset", "3600", "--boottime-offset", "7200"});
    if (nslab::lab_has(lab, nslab::Layer::image) && !test_image().empty() && coin(0.5))
        o.insert(o.end(), {"--image", test_image()});
    return o;
}

std::string joined(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
    return text;
}

struct Counts {
    int runs = 0, bad = 0;
};

}  // namespace

int leaks(std::uint64_t seed, int rounds, bool cleanup) {
    std::mt19937_64 rng(seed);
    std::string labs;
    for (int lab : build_labs())
        labs += (labs.empty() ? "" : " ") +
                (lab == image_build ? std::string("image build") : std::to_string(lab));
    std::printf(
        "leaks: seed %llu (--seed %llu repeats this run), %d rounds of labs %s x %zu "
        "endings\n",
        static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed), rounds,
        labs.c_str(), std::size(endings));
    if (test_image().empty())
        std::printf("leaks: no test image (%s): lab 10 runs without --image\n", NSLAB_TEST_IMAGE);
    std::fflush(stdout);
    const auto started = Clock::now();
    std::set<pid_t> ours;
    std::map<std::pair<int, bool>, double> ready_ms;  // how long a lab takes to set up,
                                                      // with --image or without
    std::map<std::pair<int, Ending>, Counts> table;
    int runs = 0, leaked = 0, wrong = 0;

    const auto [fails, holds] = build_contexts();
    for (int round = 0; round < rounds; ++round) {
        for (int lab : build_labs()) {
            for (Ending e : endings) {
                const bool image = lab == image_build;
                if (image && e == Ending::crash) continue;  // a RUN that fails is "normal"
                const int run = ++runs;
                std::vector<std::string> args;
                if (image) {
                    args = {"image",
                            "build",
                            "--bin",
                            bin_dir,
                            "-f",
                            e == Ending::normal ? fails : holds,
                            "-t",
                            "faults-build-" + std::to_string(run),
                            std::filesystem::path(fails).parent_path().string()};
                } else {
                    args = options_for(lab, e, run, rng);
                    args.insert(args.end(), {"--", probe_in(lab)});
                    if (e == Ending::normal) args.insert(args.end(), {"exit", "3"});
                    if (e == Ending::crash) args.push_back("crash");
                    if (e == Ending::sigint || e == Ending::sigterm) args.push_back("hold");
                    if (killed(e)) args.insert(args.end(), {"zombies", "2"});  // more to kill
                }
                const bool unpacks = std::find(args.begin(), args.end(), "--image") != args.end();
                if (unpacks) empty_layer_store();                // so this run unpacks the image
                int expected = e == Ending::normal && image ? 1  // the build failed
                               : e == Ending::normal        ? 3
                               : e == Ending::crash         ? 128 + SIGSEGV
                               : e == Ending::sigint        ? 128 + SIGINT
                               : e == Ending::sigterm       ? 128 + SIGTERM
                                                            : 128 + SIGKILL;
                std::string when;

                const HostState before = snapshot();
                int status = -1;
                {
                    const auto t0 = Clock::now();
                    Launch launch;
                    launch.lab = lab;
                    launch.args = args;
                    if (image) launch.program = bin_dir + "/nslab-tool";
                    Runtime rt(launch);
                    ours.insert(rt.pid());
                    auto ms_since = [&] {
                        return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                    };
                    if (e == Ending::kill_setup) {
                        // A moment from the fork to a little past the usual
                        // "ready": clone, maps, cgroup, veth, mounts, exec.
                        const auto kind = std::make_pair(lab, unpacks);
                        double limit = 1.2 * (ready_ms.count(kind) ? ready_ms[kind]
                                              : image              ? 300.0
                                                                   : 50.0);
                        double at = std::uniform_real_distribution<double>(0, limit)(rng);
                        std::this_thread::sleep_until(
                            t0 + std::chrono::duration<double, std::milli>(at));
                        char text[64];
                        std::snprintf(text, sizeof text, " at %.1f ms of ~%.1f ms set-up", at,
                                      limit / 1.2);
                        when = text;
                        rt.signal(SIGKILL);
                    } else if (e != Ending::normal && e != Ending::crash) {
                        if (rt.wait_for_line("ready", 20s)) {
                            double ready = ms_since();
                            const auto kind = std::make_pair(lab, unpacks);
                            ready_ms[kind] =
                                ready_ms.count(kind) ? 0.8 * ready_ms[kind] + 0.2 * ready : ready;
                            if (e == Ending::kill_running)
                                std::this_thread::sleep_for(
                                    std::chrono::microseconds(rng() % 20000));
                            rt.signal(e == Ending::sigint    ? SIGINT
                                      : e == Ending::sigterm ? SIGTERM
                                                             : SIGKILL);
                        }
                    }
                    status = rt.wait(20s);
                    if (status != expected) {
                        ++wrong;
                        std::printf(
                            "WRONG STATUS %s %s run %d [%s]: expected %d, got %d; "
                            "stderr: %s\n",
                            label_of(lab).c_str(), name_of(e), run, joined(args).c_str(), expected,
                            status, rt.err().c_str());
                    }
                }
                if (killed(e) && cleanup) run_cleanup();
                std::vector<std::string> left = settle(
                    before, ours, cleanup ? std::chrono::seconds(5) : std::chrono::seconds(1));
                Counts& c = table[{lab, e}];
                ++c.runs;
                if (status != expected) ++c.bad;
                if (!left.empty()) {
                    ++leaked;
                    if (status == expected) ++c.bad;
                    std::printf("LEAK %s %s run %d%s [%s]:\n", label_of(lab).c_str(), name_of(e),
                                run, when.c_str(), joined(args).c_str());
                    for (const auto& line : left) std::printf("    %s\n", line.c_str());
                    kill_leftovers();
                    run_cleanup();
                }
                std::fflush(stdout);
            }
        }
    }

    std::printf("\n  lab ");
    for (Ending e : endings) std::printf("%12s", name_of(e));
    std::printf("\n");
    for (int lab : build_labs()) {
        std::printf("  %-4s", lab == image_build ? "img" : label_of(lab).substr(3).c_str());
        for (Ending e : endings) {
            const Counts& c = table[{lab, e}];
            char cell[32];
            std::snprintf(cell, sizeof cell, "%d/%d ok", c.runs - c.bad, c.runs);
            std::printf("%12s", cell);
        }
        std::printf("\n");
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::printf("leaks: %d runs, %d leaks found, %d wrong exit statuses (seed %llu, %.0f s)\n",
                runs, leaked, wrong, static_cast<unsigned long long>(seed), seconds);
    int failed = 0;
    for (const auto& [key, c] : table) failed += c.bad;
    if (!cleanup) {
        // The negative control: what killed runtimes leave must be found,
        // or the leak check sees nothing. Its exit status says which.
        std::printf("control: without nslab cleanup, %d leaks were found%s\n", leaked,
                    leaked > 0 ? ", as they must be" : ": the leak check sees nothing");
        return leaked > 0 ? 0 : 1;
    }
    std::printf("faults-leaks: %d passed, %d failed\n", runs - failed, failed);
    return failed == 0 ? 0 : 1;
}

}  // namespace faults

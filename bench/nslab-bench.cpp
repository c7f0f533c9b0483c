// nslab-bench: the benchmark's timer. bench/run builds it and tells it what
// to run; it does no set-up of its own.
//
//   nslab-bench latency --spec FILE --runs N --warmup W --csv FILE
//       Every case of FILE, one run of each per round, the order rotated
//       each round (interleaved, so a burst of load hits every case alike).
//       FILE has one case a line, fields separated by tabs:
//           KIND  SET  NAME  ARGV0  ARG1 ...
//       KIND is "lab" or a peer's name (floor, floor+pivot, unshare, bwrap,
//       runc); SET names the set of namespaces, and a lab is compared with
//       the peers of its SET. "{n}" in an argument becomes a unique number.
//       Prints median and p95 of the wall time (and of the CPU time the
//       runtime and its reaped children used), then the ratios.
//
//   nslab-bench steps --runs N --csv FILE -- LAB --timings ARGS...
//       Runs the lab N times (after one warm-up run) and prints the median
//       and p95 of every step its --timings lines name, with each step's
//       share of the total until exit.
//
//   nslab-bench scale --counts 1,10,50,100 --rounds R --csv FILE -- ARGV...
//       Starts K copies of ARGV at once (ARGV ends in a command that prints
//       one line when it runs and stays until its stdin closes: the probe's
//       "hold"); start latency = spawn to that line; then closes every stdin
//       at once; teardown = close to exit of the runtime. Afterwards checks
//       that no runtime it started left a cgroup or an address lease.
//
//   nslab-bench oci --bundle DIR --state DIR --runs N --warmup W --csv FILE
//                   [--timings-of NAME] -- NAME=RUNTIME...
//       An engine's calls of an OCI runtime, without the engine: for each
//       runtime (interleaved, the order rotated each round) `create
//       --bundle DIR --pid-file F ID`, `start ID`, the container's process
//       waited for (this program is a subreaper, as conmon is), `delete
//       ID`; the median, p95, min and max of each and of their sum. Then,
//       with --timings-of NAME, N runs more of that runtime with `create
//       --timings` (lab12_oci's): the median of each of its set-up steps.
//
// Not a pass/fail test: it always exits 0 once it has measured, unless a
// case failed to run (exit 1) or something leaked (exit 3).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0, Clock::time_point t1) {
    return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "nslab-bench: %s\n", what.c_str());
    std::exit(2);
}

struct Stats {
    double median = 0, p95 = 0, min = 0, max = 0;
};

// Nearest-rank percentiles.
Stats stats_of(std::vector<double> v) {
    Stats s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    auto rank = [&](double p) {
        size_t r = static_cast<size_t>(p * static_cast<double>(v.size()) + 0.999999);
        return v[std::clamp<size_t>(r, 1, v.size()) - 1];
    };
    s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    s.p95 = rank(0.95);
    s.min = v.front();
    s.max = v.back();
    return s;
}

struct Spawned {
    pid_t pid = -1;
    int stdin_write = -1;  // scale: the runtime's stdin, closed to end it
    int stdout_read = -1;  // scale: where its "ready" line comes from
};

// posix_spawn with stdin, stdout and stderr given (-1: /dev/null).
Spawned spawn(const std::vector<std::string>& argv, bool pipes, int stderr_fd) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    Spawned s;
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    if (pipes) {
        if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC))
            die("pipe2: " + std::string(std::strerror(errno)));
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    } else {
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    }
    if (stderr_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, stderr_fd, 2);
    else
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&s.pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) die("cannot run " + argv[0] + ": " + std::strerror(rc));
    if (pipes) {
        ::close(in[0]);
        ::close(out[1]);
        s.stdin_write = in[1];
        s.stdout_read = out[0];
    }
    return s;
}

// Waits for pid; returns its status and the CPU time (ms) it and the
// children it reaped used.
int wait_for(pid_t pid, double* cpu_ms) {
    int status = 0;
    struct rusage ru {};
    while (::wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) die("wait4: " + std::string(std::strerror(errno)));
    if (cpu_ms)
        *cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                  (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    return status;
}

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::string field;
    std::istringstream in(text);
    while (std::getline(in, field, sep)) out.push_back(field);
    return out;
}

std::string describe(int status) {
    if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
    return "signal " + std::to_string(WTERMSIG(status));
}

// ---------------------------------------------------------------- latency

struct Case {
    std::string kind, set, name;
    std::vector<std::string> argv;
    std::vector<double> wall, cpu;
    int failures = 0;
    std::string first_error;
};

std::string expand(const std::string& arg, long n) {
    std::string out = arg;
    for (size_t at; (at = out.find("{n}")) != std::string::npos;)
        out.replace(at, 3, std::to_string(::getpid()) + "-" + std::to_string(n));
    return out;
}

void run_once(Case& c, long n, bool keep) {
    std::vector<std::string> argv;
    for (const auto& a : c.argv) argv.push_back(expand(a, n));
    FILE* err = std::tmpfile();
    auto t0 = Clock::now();
    Spawned s = spawn(argv, false, fileno(err));
    double cpu = 0;
    int status = wait_for(s.pid, &cpu);
    auto t1 = Clock::now();
    if (status != 0) {
        ++c.failures;
        if (c.first_error.empty()) {
            std::rewind(err);
            char line[512] = "";
            if (!std::fgets(line, sizeof line, err)) line[0] = 0;
            c.first_error = describe(status) + ": " + line;
            while (!c.first_error.empty() && c.first_error.back() == '\n') c.first_error.pop_back();
        }
    } else if (keep) {
        c.wall.push_back(ms_since(t0, t1));
        c.cpu.push_back(cpu);
    }
    std::fclose(err);
}

int latency(const std::map<std::string, std::string>& opt) {
    const int runs = std::stoi(opt.at("runs"));
    const int warmup = std::stoi(opt.at("warmup"));
    std::vector<Case> cases;
    std::ifstream spec(opt.at("spec"));
    if (!spec) die("cannot read " + opt.at("spec"));
    for (std::string line; std::getline(spec, line);) {
        if (line.empty() || line[0] == '#') continue;
        auto f = split(line, '\t');
        if (f.size() < 4) die("bad spec line: " + line);
        cases.push_back({f[0], f[1], f[2], {f.begin() + 3, f.end()}, {}, {}, 0, {}});
    }
    long n = 0;
    for (int round = 0; round < warmup + runs; ++round) {
        for (size_t k = 0; k < cases.size(); ++k)
            run_once(cases[(k + static_cast<size_t>(round)) % cases.size()], ++n, round >= warmup);
        if (::isatty(2))
            std::fprintf(stderr, "\rnslab-bench: round %d/%d", round + 1, warmup + runs);
    }
    if (::isatty(2)) std::fprintf(stderr, "\n");

    std::ofstream csv(opt.at("csv"));
    csv << "kind,set,name,runs,failures,median_ms,p95_ms,min_ms,max_ms,cpu_median_ms,cpu_p95_ms\n";
    std::printf("%-30s %-9s %8s %8s %8s\n", "case", "set", "median", "p95", "cpu");
    bool failed = false;
    for (const Case& c : cases) {
        Stats w = stats_of(c.wall), u = stats_of(c.cpu);
        csv << c.kind << ',' << c.set << ",\"" << c.name << "\"," << c.wall.size() << ','
            << c.failures << ',' << w.median << ',' << w.p95 << ',' << w.min << ',' << w.max << ','
            << u.median << ',' << u.p95 << '\n';
        std::printf("%-30s %-9s %8.2f %8.2f %8.2f\n", c.name.c_str(), c.set.c_str(), w.median,
                    w.p95, u.median);
        if (c.failures) {
            std::printf("  %d failed runs: %s\n", c.failures, c.first_error.c_str());
            failed = true;
        }
    }
    // The ratios: each lab against the peers with its own set of namespaces,
    // by wall time and by CPU time (less disturbed by other people's load).
    const char* peers[] = {"floor", "floor+pivot", "unshare", "bwrap", "runc", "crun"};
    for (bool by_cpu : {false, true}) {
        auto median = [&](const Case& c) { return stats_of(by_cpu ? c.cpu : c.wall).median; };
        std::printf("\n%s median of each lab / the same of the peers with the same namespaces\n",
                    by_cpu ? "CPU-time" : "wall-time");
        std::printf("%-30s %8s", "lab", "ms");
        for (const char* p : peers) std::printf(" %11s", (std::string("x ") + p).c_str());
        std::printf("\n");
        for (const Case& c : cases) {
            if (c.kind != "lab" || c.wall.empty()) continue;
            std::printf("%-30s %8.2f", c.name.c_str(), median(c));
            for (const char* p : peers) {
                const Case* peer = nullptr;
                for (const Case& q : cases)
                    if (q.kind == p && q.set == c.set && !q.wall.empty()) peer = &q;
                if (peer)
                    std::printf(" %11.2f", median(c) / median(*peer));
                else
                    std::printf(" %11s", "-");
            }
            std::printf("\n");
        }
    }
    return failed ? 1 : 0;
}

// ------------------------------------------------------------------ steps

// The steps a --timings run printed ("PROGRAM: timing: STEP  N.NNN ms"
// lines) in `err`, added to `times` (`order`: first seen first).
struct StepTimes {
    std::vector<std::string> order;
    std::map<std::string, std::vector<double>> times;
    void read(FILE* err) {
        std::rewind(err);
        char line[512];
        while (std::fgets(line, sizeof line, err)) {
            const char* at = std::strstr(line, ": timing: ");
            if (!at) continue;
            std::string rest = at + std::strlen(": timing: ");
            size_t ms_at = rest.rfind(' ', rest.rfind(" ms") - 1);
            std::string name = rest.substr(0, ms_at);
            name.erase(name.find_last_not_of(' ') + 1);
            double ms = std::strtod(rest.c_str() + ms_at, nullptr);
            if (!times.count(name)) order.push_back(name);
            times[name].push_back(ms);
        }
    }
};

// Runs ARGV (a lab with --timings) N times and prints each step's median,
// p95 and share of the median total until exit.
int steps(const std::map<std::string, std::string>& opt, const std::vector<std::string>& argv) {
    const int runs = std::stoi(opt.at("runs"));
    StepTimes steps;
    for (int run = 0; run < runs + 1; ++run) {
        FILE* err = std::tmpfile();
        Spawned s = spawn(argv, false, fileno(err));
        int status = wait_for(s.pid, nullptr);
        if (status != 0) die(argv[0] + " --timings: " + describe(status));
        if (run > 0) steps.read(err);  // the first run warms up
        std::fclose(err);
    }
    auto& [order, times] = steps;
    const double total = stats_of(times["= until exit"]).median;
    std::ofstream csv(opt.at("csv"));
    csv << "step,median_ms,p95_ms,share_of_total\n";
    std::printf("%-40s %8s %8s %7s\n", "step", "median", "p95", "share");
    bool over = false;
    for (const std::string& name : order) {
        Stats st = stats_of(times[name]);
        double share = total > 0 ? st.median / total : 0;
        bool total_line = name.rfind("= ", 0) == 0;
        // The kernel's own namespace creation is exempt from the half-of-total target.
        bool exempt = total_line || name == "clone" || name == "time namespace";
        bool flag = !exempt && share > 0.5;
        over |= flag;
        csv << '"' << name << "\"," << st.median << ',' << st.p95 << ',' << share << '\n';
        std::printf("%-40s %8.3f %8.3f %6.0f%%%s\n", name.c_str(), st.median, st.p95, share * 100,
                    flag ? "  <- more than half of the total" : "");
    }
    std::printf("%s\n", over ? "a step takes more than half of the total (target missed)"
                             : "no step but namespace creation takes more than half of the total");
    return 0;
}

// -------------------------------------------------------------------- oci

struct Runtime {
    std::string name, path;
    std::map<std::string, std::vector<double>> phase;  // ms, per phase
    std::string error;                                 // why its trial cycle failed
};

constexpr const char* oci_phases[] = {"create", "start", "run to exit", "delete", "total"};

// Runs argv to its end with stderr into `err`; its wall time in ms, or -1
// (and `error` says what ended it).
double timed(const std::vector<std::string>& argv, FILE* err, std::string* error) {
    const auto t0 = Clock::now();
    Spawned s = spawn(argv, false, err ? fileno(err) : -1);
    const int status = wait_for(s.pid, nullptr);
    const auto t1 = Clock::now();
    if (status == 0) return ms_since(t0, t1);
    *error = argv[0] + " " + argv[3] + ": " + describe(status);
    if (err) {
        std::rewind(err);
        char line[512] = "";
        if (std::fgets(line, sizeof line, err)) *error += std::string(": ") + line;
        while (!error->empty() && error->back() == '\n') error->pop_back();
    }
    return -1;
}

// One create, start, wait, delete of the bundle with `rt`; the phases' times
// are kept when `keep`; with `steps`, create runs with --timings and its
// lines are added there. False (and rt.error) if a command failed; the
// container is then deleted with --force.
bool cycle(Runtime& rt, const std::map<std::string, std::string>& opt, long n, bool keep,
           StepTimes* steps) {
    const std::string id = "nslab-bench-" + std::to_string(::getpid()) + "-" + std::to_string(n);
    const std::string root = opt.at("state") + "/" + rt.name;
    const std::string pid_file = opt.at("state") + "/" + rt.name + ".pid";
    ::unlink(pid_file.c_str());
    std::vector<std::string> create = {rt.path,    "--root",         root,         "create",
                                       "--bundle", opt.at("bundle"), "--pid-file", pid_file};
    if (steps) create.push_back("--timings");
    create.push_back(id);
    ::alarm(120);  // a hung runtime ends the bench (bench/oci's trap deletes what is left)
    FILE* err = std::tmpfile();
    std::map<std::string, double> took;
    bool ok = (took["create"] = timed(create, err, &rt.error)) >= 0;
    pid_t container = 0;
    if (ok) {
        std::ifstream in(pid_file);
        ok = static_cast<bool>(in >> container) && container > 0;
        if (!ok) rt.error = rt.path + " create: no pid in " + pid_file;
    }
    if (ok)
        ok = (took["start"] = timed({rt.path, "--root", root, "start", id}, err, &rt.error)) >= 0;
    if (ok) {  // it is ours since create exited (a subreaper's)
        const auto t0 = Clock::now();
        int status = 0;
        while (::waitpid(container, &status, 0) < 0 && errno == EINTR) {}
        took["run to exit"] = ms_since(t0, Clock::now());
        ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!ok) rt.error = "the container's /bin/true: " + describe(status);
    }
    if (ok)
        ok = (took["delete"] = timed({rt.path, "--root", root, "delete", id}, err, &rt.error)) >= 0;
    if (!ok) {
        std::string ignored;
        timed({rt.path, "--root", root, "delete", "--force", id}, nullptr, &ignored);
    }
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {}  // whatever else came to us
    ::alarm(0);
    if (ok && steps) steps->read(err);
    std::fclose(err);
    if (!ok || !keep) return ok;
    took["total"] = took["create"] + took["start"] + took["run to exit"] + took["delete"];
    for (const auto& [phase, ms] : took) rt.phase[phase].push_back(ms);
    return true;
}

int oci(const std::map<std::string, std::string>& opt, const std::vector<std::string>& given) {
    const int runs = std::stoi(opt.at("runs"));
    const int warmup = std::stoi(opt.at("warmup"));
    if (!opt.count("bundle") || !opt.count("state")) die("oci needs --bundle DIR and --state DIR");
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // as conmon: each container becomes ours
    std::vector<Runtime> all, runtimes;
    for (const std::string& arg : given) {
        const size_t eq = arg.find('=');
        if (eq == std::string::npos || eq == 0)
            die("oci: expected NAME=RUNTIME, not '" + arg + "'");
        all.push_back({arg.substr(0, eq), arg.substr(eq + 1), {}, {}});
    }
    long n = 0;
    for (Runtime& rt : all)  // the trial: a runtime that cannot run the bundle is missing
        if (cycle(rt, opt, ++n, false, nullptr)) runtimes.push_back(rt);
    for (int round = 0; round < warmup + runs; ++round) {
        for (size_t k = 0; k < runtimes.size(); ++k) {
            Runtime& rt = runtimes[(k + static_cast<size_t>(round)) % runtimes.size()];
            if (!cycle(rt, opt, ++n, round >= warmup, nullptr)) die("oci: " + rt.error);
        }
        if (::isatty(2))
            std::fprintf(stderr, "\rnslab-bench: round %d/%d", round + 1, warmup + runs);
    }
    if (::isatty(2)) std::fprintf(stderr, "\n");

    std::ofstream csv(opt.at("csv"));
    csv << "runtime,phase,runs,median_ms,p95_ms,min_ms,max_ms\n";
    std::printf("%-12s %8s %8s %12s %8s %8s   %8s %8s %8s\n", "runtime", "create", "start",
                "run to exit", "delete", "total", "p95", "min", "max");
    for (const Runtime& rt : all) {
        const Runtime* measured = nullptr;
        for (const Runtime& r : runtimes)
            if (r.name == rt.name) measured = &r;
        if (!measured) {
            std::printf("%-12s missing: %s\n", rt.name.c_str(), rt.error.c_str());
            continue;
        }
        std::printf("%-12s", rt.name.c_str());
        for (const char* phase : oci_phases) {
            const Stats st = stats_of(measured->phase.at(phase));
            csv << rt.name << ",\"" << phase << "\"," << measured->phase.at(phase).size() << ','
                << st.median << ',' << st.p95 << ',' << st.min << ',' << st.max << '\n';
            std::printf(" %*.2f", std::string(phase) == "run to exit" ? 12 : 8, st.median);
        }
        const Stats total = stats_of(measured->phase.at("total"));
        std::printf("   %8.2f %8.2f %8.2f\n", total.p95, total.min, total.max);
    }
    std::printf(
        "(medians of %d interleaved cycles after %d warm-up; total = the sum of one "
        "cycle's four)\n",
        runs, warmup);

    if (!opt.count("timings-of")) return 0;
    Runtime* own = nullptr;
    for (Runtime& r : runtimes)
        if (r.name == opt.at("timings-of")) own = &r;
    if (!own) die("oci: --timings-of " + opt.at("timings-of") + ": no such runtime measured");
    StepTimes steps;
    Runtime timed_rt{own->name, own->path, {}, {}};
    for (int run = 0; run < runs + 1; ++run) {
        StepTimes* into = run == 0 ? nullptr : &steps;  // the first run warms up
        if (!cycle(timed_rt, opt, ++n, run > 0, into)) die("oci: " + timed_rt.error);
    }
    const double until = stats_of(steps.times["= until created"]).median;
    const double create = stats_of(timed_rt.phase["create"]).median;
    std::printf("\n%s create --timings: where create's time goes, ms (%d runs)\n",
                own->name.c_str(), runs);
    std::printf("%-44s %8s %8s\n", "step", "median", "p95");
    for (const std::string& name : steps.order) {
        const Stats st = stats_of(steps.times[name]);
        std::printf("%-44s %8.3f %8.3f\n", name.c_str(), st.median, st.p95);
    }
    std::printf("%-44s %8.3f\n", "create as the engine waits for it (wall)", create);
    std::printf("%-44s %8.3f\n", "  after '= until created' (state file, exit)", create - until);
    return 0;
}

// ------------------------------------------------------------------ scale

// Did the runtime `pid` leave a cgroup (nslab/<id>-<pid>) or a lease?
std::vector<std::string> leftovers_of(const std::vector<pid_t>& pids) {
    std::vector<std::string> found;
    auto scan = [&](const std::string& dir, auto&& check) {
        if (DIR* d = ::opendir(dir.c_str())) {
            while (dirent* e = ::readdir(d)) check(dir + "/" + e->d_name, std::string(e->d_name));
            ::closedir(d);
        }
    };
    std::vector<std::string> suffixes, owners;
    for (pid_t p : pids) {
        suffixes.push_back("-" + std::to_string(p));
        owners.push_back("pid=" + std::to_string(p) + " ");
    }
    auto ends_with = [](const std::string& s, const std::string& tail) {
        return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
    };
    scan("/sys/fs/cgroup", [&](const std::string& path, const std::string& name) {
        if (name[0] == '.') return;
        for (const std::string& parent : {path + "/nslab", path})
            scan(parent, [&](const std::string& p, const std::string& n) {
                for (const auto& s : suffixes)
                    if (ends_with(n, s) && p.find("/nslab/") != std::string::npos)
                        found.push_back(p);
            });
    });
    scan("/run/nslab/leases", [&](const std::string& path, const std::string& name) {
        if (name[0] == '.') return;
        std::ifstream in(path);
        std::string text((std::istreambuf_iterator<char>(in)), {});
        for (const auto& o : owners)
            if (text.rfind(o, 0) == 0) found.push_back(path);
    });
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
}

int scale(const std::map<std::string, std::string>& opt, const std::vector<std::string>& argv) {
    const int rounds = std::stoi(opt.at("rounds"));
    std::ofstream csv(opt.at("csv"));
    csv << "count,round,start_median_ms,start_p95_ms,start_max_ms,all_started_ms,"
           "teardown_median_ms,teardown_p95_ms,all_gone_ms,failures\n";
    std::printf("%6s %10s %10s %10s %12s %12s %12s %10s\n", "count", "start med", "start p95",
                "start max", "all started", "teardown med", "teardown p95", "all gone");
    std::vector<pid_t> all_pids;
    bool failed = false;
    for (const std::string& count_text : split(opt.at("counts"), ',')) {
        const int count = std::stoi(count_text);
        std::vector<double> start_all, teardown_all;
        for (int round = 0; round < (count == 1 ? rounds * 5 : rounds); ++round) {
            std::vector<Spawned> boxes(count);
            std::vector<Clock::time_point> spawned(count), ready(count), released(count);
            std::vector<bool> is_ready(count, false);
            const auto t0 = Clock::now();
            for (int i = 0; i < count; ++i) {
                spawned[i] = Clock::now();
                boxes[i] = spawn(argv, true, -1);
                all_pids.push_back(boxes[i].pid);
            }
            // Each prints one line ("ready PID") once it runs, or ends.
            int waiting = count, failures = 0;
            while (waiting > 0) {
                std::vector<pollfd> fds;
                std::vector<int> which;
                for (int i = 0; i < count; ++i)
                    if (!is_ready[i]) {
                        fds.push_back({boxes[i].stdout_read, POLLIN, 0});
                        which.push_back(i);
                    }
                if (::poll(fds.data(), fds.size(), 60000) <= 0)
                    die("scale: no container started in 60 s");
                const auto now = Clock::now();
                for (size_t k = 0; k < fds.size(); ++k) {
                    if (!fds[k].revents) continue;
                    int i = which[k];
                    char buf[256];
                    ssize_t got = ::read(boxes[i].stdout_read, buf, sizeof buf);
                    if (got <= 0) ++failures;
                    ready[i] = now;
                    is_ready[i] = true;
                    --waiting;
                }
            }
            const auto all_started = Clock::now();
            for (int i = 0; i < count; ++i) {
                released[i] = Clock::now();
                ::close(boxes[i].stdin_write);
            }
            std::vector<double> start, teardown;
            Clock::time_point last_gone = Clock::now();
            for (int i = 0; i < count; ++i) {
                int status = wait_for(boxes[i].pid, nullptr);
                last_gone = Clock::now();
                if (status != 0) ++failures;
                ::close(boxes[i].stdout_read);
                start.push_back(ms_since(spawned[i], ready[i]));
                teardown.push_back(ms_since(released[i], last_gone));
            }
            // Teardown of a runtime waited for later is measured when we got
            // to it: an upper bound (wait order = release order).
            Stats s = stats_of(start), d = stats_of(teardown);
            double started_ms = ms_since(t0, all_started),
                   gone_ms = ms_since(all_started, last_gone);
            csv << count << ',' << round << ',' << s.median << ',' << s.p95 << ',' << s.max << ','
                << started_ms << ',' << d.median << ',' << d.p95 << ',' << gone_ms << ','
                << failures << '\n';
            start_all.insert(start_all.end(), start.begin(), start.end());
            teardown_all.insert(teardown_all.end(), teardown.begin(), teardown.end());
            if (failures) {
                std::printf("  count %d round %d: %d containers failed\n", count, round, failures);
                failed = true;
            }
            if (count > 1)
                std::printf("%6d %10.1f %10.1f %10.1f %12.1f %12.1f %12.1f %10.1f\n", count,
                            s.median, s.p95, s.max, started_ms, d.median, d.p95, gone_ms);
        }
        if (count == 1) {
            Stats s = stats_of(start_all), d = stats_of(teardown_all);
            std::printf("%6d %10.1f %10.1f %10.1f %12s %12.1f %12.1f %10s   (%zu runs)\n", 1,
                        s.median, s.p95, s.max, "-", d.median, d.p95, "-", start_all.size());
        }
    }
    auto left = leftovers_of(all_pids);
    for (const auto& l : left) std::printf("LEAK: %s\n", l.c_str());
    if (!left.empty()) return 3;
    std::printf("no cgroup or lease left by the %zu runtimes\n", all_pids.size());
    return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2)
        die("usage: nslab-bench latency|steps|scale|oci OPTIONS (see the top of nslab-bench.cpp)");
    const std::string mode = argv[1];
    std::map<std::string, std::string> opt{{"runs", "20"},
                                           {"warmup", "3"},
                                           {"rounds", "3"},
                                           {"counts", "1,10,50,100"},
                                           {"csv", "/dev/null"}};
    std::vector<std::string> rest;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--") {
            rest.assign(argv + i + 1, argv + argc);
            break;
        }
        if (a.rfind("--", 0) != 0 || i + 1 >= argc) die("bad argument '" + a + "'");
        opt[a.substr(2)] = argv[++i];
    }
    if (mode == "latency") return latency(opt);
    if (mode == "steps") {
        if (rest.empty()) die("steps needs -- ARGV");
        return steps(opt, rest);
    }
    if (mode == "oci") return oci(opt, rest);
    if (mode == "scale") {
        if (rest.empty()) die("scale needs -- ARGV");
        return scale(opt, rest);
    }
    die("unknown mode '" + mode + "'");
}

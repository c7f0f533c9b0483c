// Must hold 2 (issue 10): every bad input in tests/faults/bad_inputs.tsv
// gets its documented exit status, one line on stderr that names it, and
// leaves nothing behind.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

#include "faults.hpp"
#include "nslab/cli.hpp"
#include "nslab/command.hpp"
#include "nslab/sys.hpp"

namespace faults {

namespace {

namespace fs = std::filesystem;
namespace sys = nslab::sys;
using namespace std::chrono_literals;

// A row whose lab is "image" runs `nslab-tool image ARGS` (nslab image).
constexpr int image_row = -1;

struct Row {
    int line = 0;
    int lab = 0;       // or image_row
    std::string args;  // as written, with $FIX
    int status = 0;
    std::string regex;
    std::string
        setup;  // "-", "user", "no-timens", "hold-ip=A", "hold-publish=P", "layer-cap=BYTES"
};

std::vector<std::string> split(const std::string& text, char by) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream in(text);
    while (std::getline(in, part, by)) parts.push_back(part);
    if (!text.empty() && text.back() == by) parts.push_back("");
    return parts;
}

// `path` names the table in messages; `text` is what it holds.
std::vector<Row> parse_table(const std::string& path, const std::string& text) {
    std::istringstream in(text);
    std::vector<Row> rows;
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        if (line.empty() || line[0] == '#') continue;
        auto cells = split(line, '\t');
        if (cells.size() != 5)
            throw std::runtime_error(path + ":" + std::to_string(number) +
                                     ": expected 5 tab-separated columns, got " +
                                     std::to_string(cells.size()));
        const int lab = cells[0] == "image" ? image_row : std::stoi(cells[0]);
        rows.push_back({number, lab, cells[1], std::stoi(cells[2]), cells[3], cells[4]});
    }
    return rows;
}

std::vector<std::string> words_of(const std::string& args) {
    std::vector<std::string> words;
    std::istringstream in(args);
    for (std::string w; in >> w;) {
        for (size_t at; (at = w.find("$FIX")) != std::string::npos;)
            w.replace(at, 4, fixtures_dir());
        if (w == "$LONGID") w.assign(1025, 'x');  // a container id one byte over lab 12's limit
        words.push_back(w);
    }
    return words;
}

// The fixtures the table names, in our /tmp (made before any snapshot).
void make_fixtures() {
    const std::string fix = fixtures_dir();
    std::ofstream(fix + "/file") << "a regular file\n";
    // A rootfs with every directory of the real one, and no file at all.
    const fs::path rootfs = fs::path(bin_dir).parent_path() / "rootfs";
    for (const auto& entry : fs::recursive_directory_iterator(rootfs))
        if (entry.is_directory() && !entry.is_symlink())
            fs::create_directories(fix + "/nosh/" + fs::relative(entry.path(), rootfs).string());
    // The same tree with /proc a symbolic link out of it (a mount target
    // the runtime must refuse, not follow).
    fs::copy(fix + "/nosh", fix + "/symproc", fs::copy_options::recursive);
    fs::remove(fix + "/symproc/proc");
    fs::create_symlink("/", fix + "/symproc/proc");
    // A symbolic link to the regular file (a --pid-file that must not be followed).
    fs::create_symlink("file", fix + "/link");
    // The host's / under another name: a bind mount of it.
    sys::mkdir_p(fix + "/rootbind", 0755);
    sys::mount("/", fix + "/rootbind", "", MS_BIND);
    if (!sys::exists(fix + "/null"))
        sys::check(::mknod((fix + "/null").c_str(), S_IFCHR | 0666, ::makedev(1, 3)), "mknod null");
    // A full disk: a 4 KiB tmpfs, filled.
    sys::mkdir_p(fix + "/full", 0755);
    sys::mount("faults-full", fix + "/full", "tmpfs", MS_NOSUID | MS_NODEV, "size=4k");
    std::ofstream fill(fix + "/full/fill");
    const std::string block(4096, 'x');
    for (int i = 0; i < 4 && fill; ++i) fill << block << std::flush;
    // Lab 10's hostile images: img-absolute, img-dotdot, ... (the script says),
    // made when nslab-faults was built (tests/vm's guest has no python3).
    const std::string made_dir = NSLAB_HOSTILE_IMAGES;
    const auto made =
        sys::exists(made_dir + "/made")
            ? nslab::command::run({.argv = {"cp", "-a", made_dir + "/.", fix},
                                   .err = nslab::command::Stream::pipe()})
            : nslab::command::run({.argv = {"python3", NSLAB_FAULTS_DIR "/hostile_images.py", fix},
                                   .err = nslab::command::Stream::pipe()});
    if (made.status != 0)
        throw std::runtime_error("lab 10's hostile images (tests/faults/hostile_images.py): " +
                                 made.err);
    // Lab 11's bad seccomp profiles (Docker's JSON format).
    std::ofstream(fix + "/seccomp-unknown-call.json")
        << R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["no_such_call"],
              "action": "SCMP_ACT_ERRNO"}]})";
    std::ofstream(fix + "/seccomp-unknown-action.json")
        << R"({"defaultAction": "SCMP_ACT_MAYBE", "syscalls": []})";
    std::ofstream(fix + "/seccomp-malformed.json") << R"({"defaultAction": "SCMP_ACT_ALLOW", )";
    // Lab 12's bundles: bundle-NAME/config.json, the build's rootfs as root.
    auto bundle = [&](const std::string& name, const std::string& process,
                      const std::string& namespaces) {
        sys::mkdir_p(fix + "/bundle-" + name, 0755);
        std::ofstream(fix + "/bundle-" + name + "/config.json")
            << R"({"ociVersion": "1.0.2", "root": {"path": ")" << rootfs.string()
            << R"("}, "process": {"args": ["/bin/true"], "cwd": "/")" << process
            << R"(}, "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"})" << namespaces
            << "]}}";
    };
    bundle("terminal", R"(, "terminal": true)", "");
    bundle("nspath", "", R"(, {"type": "network", "path": ")" + fix + R"(/file"})");
    // `nslab image build`'s bad Dockerfiles and contexts: build-NAME/.
    auto context = [&](const std::string& name, const std::string& dockerfile) {
        sys::mkdir_p(fix + "/build-" + name, 0755);
        std::ofstream(fix + "/build-" + name + "/Dockerfile") << dockerfile;
        return fix + "/build-" + name;
    };
    context("unknown", "FROM scratch\nADD file /\n");
    context("missing", "FROM scratch\nCOPY not-here /\n");
    context("dotdot", "FROM scratch\nCOPY ../file /\n");
    context("absolute", "FROM scratch\nCOPY /etc/passwd /\n");
    fs::create_symlink("/etc", context("symlink", "FROM scratch\nCOPY out /\n") + "/out");
    // A root of busybox alone, where RUN exits 3.
    const std::string fails = context("run-fails", "FROM scratch\nCOPY root /\nRUN exit 3\n");
    for (const char* dir : {"bin", "proc", "dev", "sys", "tmp"})
        sys::mkdir_p(fails + "/root/" + dir, 0755);
    fs::copy_file(rootfs / "bin/busybox", fails + "/root/bin/busybox");
    fs::create_symlink("busybox", fails + "/root/bin/sh");
}

std::string shown(const Row& row) {
    return (row.args.empty() ? std::string("(no arguments)") : row.args);
}

}  // namespace

std::string read_table(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

int bad_inputs(const std::string& table, const std::string& text) {
    const std::vector<Row> rows = parse_table(table, text);
    make_fixtures();
    const auto started = std::chrono::steady_clock::now();
    int ok = 0, failed = 0, leaked = 0;
    for (const Row& row : rows) {
        const bool tool = row.lab == image_row;
        const std::string program = tool ? "nslab" : nslab::lab_program_name(row.lab);
        std::unique_ptr<Runtime> holder;
        if (row.setup.starts_with("hold-ip=") || row.setup.starts_with("hold-publish=")) {
            const size_t equals = row.setup.find('=');
            Launch hold;
            hold.lab = 4;
            hold.args = {row.setup.starts_with("hold-ip=") ? "--ip" : "--publish",
                         row.setup.substr(equals + 1), "--", "/bin/probe", "hold"};
            holder = std::make_unique<Runtime>(hold);
            if (!holder->wait_for_line("ready", 20s))
                throw std::runtime_error("the container holding " + row.setup +
                                         " did not start: " + holder->err());
        }
        const HostState before = snapshot();
        Launch launch;
        launch.lab = row.lab;
        launch.args = words_of(row.args);
        if (tool) {
            launch.program = bin_dir + "/nslab-tool";
            launch.args.insert(launch.args.begin(), "image");
        }
        launch.as_user = row.setup == "user";
        launch.no_time_namespaces = row.setup == "no-timens";
        if (row.setup.starts_with("layer-cap="))
            launch.environment.emplace_back("NSLAB_MAX_LAYER_BYTES", row.setup.substr(10));
        Runtime rt(launch);
        const int status = rt.wait(20s);
        const std::vector<std::string> left = settle(
            before, {rt.pid()}, 5s, holder ? std::set<pid_t>{holder->pid()} : std::set<pid_t>{});
        if (holder) {
            holder->close_stdin();
            holder->wait(10s);
        }

        std::string err = rt.err();
        if (!err.empty() && err.back() == '\n') err.pop_back();
        const std::vector<std::string> lines = split(err, '\n');
        std::vector<std::string> wrong;
        if (status != row.status)
            wrong.push_back("exit status " + std::to_string(status) + ", expected " +
                            std::to_string(row.status));
        // A lab's usage error adds "Try 'labNN_x --help'."; nslab's is one line.
        const size_t expected_lines = row.status == 2 && !tool ? 2 : 1;
        if (lines.size() != expected_lines)
            wrong.push_back(std::to_string(lines.size()) + " lines on stderr, expected " +
                            std::to_string(expected_lines));
        if (row.status == 2 && !tool &&
            (lines.size() < 2 || lines[1] != "Try '" + program + " --help'."))
            wrong.push_back("no \"Try '" + program + " --help'.\" line");
        if (lines.empty() || !lines[0].starts_with(program + ": ") ||
            !std::regex_search(lines[0], std::regex(row.regex)))
            wrong.push_back("the line does not match /" + row.regex + "/ after '" + program +
                            ": '");
        for (const auto& l : left) wrong.push_back(l);
        if (!left.empty()) {
            ++leaked;
            kill_leftovers();
            run_cleanup();
        }
        if (wrong.empty()) {
            ++ok;
            std::printf("ok    %s %s -> %d: %s\n", (tool ? "nslab image" : program.c_str()),
                        shown(row).c_str(), status, lines[0].c_str());
        } else {
            ++failed;
            std::printf("FAIL  %s %s (%s line %d):\n", (tool ? "nslab image" : program.c_str()),
                        shown(row).c_str(), table.c_str(), row.line);
            for (const auto& w : wrong) std::printf("        %s\n", w.c_str());
            std::printf("        stderr: %s\n", err.c_str());
        }
        std::fflush(stdout);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("bad inputs: %zu inputs tried, %d as documented, %d not, %d leaks found (%.0f s)\n",
                rows.size(), ok, failed, leaked, seconds);
    std::printf("faults-bad-inputs: %d passed, %d failed\n", ok, failed);
    return failed == 0 ? 0 : 1;
}

int bad_inputs_markdown(const std::string& table) {
    std::printf("| lab | input | exit | the one line on stderr matches | set-up |\n");
    std::printf("|---|---|---|---|---|\n");
    auto cell = [](std::string text) {
        for (size_t at = 0; (at = text.find('|', at)) != std::string::npos; at += 2)
            text.replace(at, 1, "\\|");
        return text;
    };
    for (const Row& row : parse_table(table, read_table(table))) {
        char lab[8];
        std::snprintf(lab, sizeof lab, "%02d", row.lab);
        std::printf("| %s | `%s` | %d | `%s` | %s |\n", row.lab == image_row ? "image" : lab,
                    cell(shown(row)).c_str(), row.status, cell(row.regex).c_str(),
                    row.setup == "-" ? "" : row.setup.c_str());
    }
    return 0;
}

}  // namespace faults

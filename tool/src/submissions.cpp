#include "submissions.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "nslab/cli.hpp"
#include "report.hpp"

namespace tool {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

bool same_content(const fs::path& a, const fs::path& b) {
    std::error_code ec;
    if (!fs::exists(b, ec) || fs::file_size(a, ec) != fs::file_size(b, ec)) return false;
    std::ifstream x(a, std::ios::binary), y(b, std::ios::binary);
    return std::equal(std::istreambuf_iterator<char>(x), {}, std::istreambuf_iterator<char>(y));
}

// Makes `to` hold exactly the regular files of `from`. Only files that
// differ are copied (with a new mtime), so the shared build recompiles just
// what this submission changed; symlinks are not followed out of the tree.
void mirror(const fs::path& from, const fs::path& to) {
    std::set<fs::path> keep;
    fs::create_directories(to);
    for (const auto& e : fs::recursive_directory_iterator(from)) {
        if (e.symlink_status().type() != fs::file_type::regular) continue;
        fs::path rel = e.path().lexically_relative(from);
        keep.insert(rel);
        if (same_content(e.path(), to / rel)) continue;
        fs::create_directories((to / rel).parent_path());
        fs::copy_file(e.path(), to / rel, fs::copy_options::overwrite_existing);
    }
    std::vector<fs::path> stale;
    for (const auto& e : fs::recursive_directory_iterator(to))
        if (e.is_regular_file() && !keep.count(e.path().lexically_relative(to)))
            stale.push_back(e.path());
    for (const auto& path : stale) fs::remove(path);
}

// A submission is labs/ itself, or a repository copy that holds labs/.
std::optional<fs::path> labs_of(const fs::path& submission) {
    if (fs::is_directory(submission / "labs")) return submission / "labs";
    for (const auto& e : fs::directory_iterator(submission))
        if (e.is_directory() &&
            std::regex_match(e.path().filename().string(), std::regex(R"(lab\d\d_\w+)")))
            return submission;
    return std::nullopt;
}

std::string cgroup_name(const std::string& student) {
    std::string name = student;
    for (char& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') ch = '_';
    return name;
}

// The compiler's first complaint, with paths relative to the student's labs/.
std::string first_error(const std::string& log_file, const std::string& work) {
    std::ifstream in(log_file);
    for (std::string line; std::getline(in, line);) {
        if (line.find("error") == std::string::npos || line.rfind("FAILED", 0) == 0) continue;
        for (size_t at; (at = line.find(work + "/")) != std::string::npos;)
            line.erase(at, work.size() + 1);
        return line.size() > 160 ? line.substr(0, 157) + "..." : line;
    }
    return "see " + log_file;
}

std::string two_digits(int lab) {
    char text[8];
    std::snprintf(text, sizeof text, "%02d", lab);
    return text;
}

std::string join(const std::vector<std::string>& parts, const std::string& glue) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : glue) + p;
    return out;
}

// Configures the one build every submission shares, its layer directory
// pointing at the copy that mirror() keeps in step with each student.
void configure(const BatchOptions& o, const std::string& build, const std::string& work,
               Sandbox& box) {
    std::vector<std::string> argv{"cmake", "-S", o.source_dir, "-B", build};
    if (!fs::exists(build + "/CMakeCache.txt")) argv.insert(argv.begin() + 1, "--preset=student");
    argv.push_back("-DNSLAB_LAYER_DIR=" + work);
    argv.push_back("-DNSLAB_EXTRA_GRADERS_DIR=" + o.extra_tests);
    std::string log = o.results_dir + "/configure.log";
    fs::remove(log);
    auto outcome = box.run(argv, Clock::now() + std::chrono::seconds(o.build_time_limit), log);
    if (outcome.timed_out || outcome.status != 0)
        throw std::runtime_error("cannot configure the grading build: see " + log);
}

}  // namespace

int StudentResult::points() const {
    int sum = 0;
    for (const auto& lab : labs) sum += lab.points();
    return sum;
}

Batch grade_submissions(const BatchOptions& o, std::ostream& progress) {
    Batch batch;
    std::string build = o.build_root + "/submissions";
    std::string work = o.build_root + "/submissions-src/labs";
    fs::create_directories(o.results_dir);
    become_subreaper();

    std::vector<std::string> targets;
    for (int lab : o.labs) {
        std::string program = nslab::lab_program_name(lab);
        std::string layer = program.substr(program.find('_') + 1);
        if (!fs::exists(o.source_dir + "/tests/graders/" + layer + "_claims.cpp")) continue;
        batch.labs.push_back(lab);
        targets.push_back("grade_lab" + two_digits(lab));
    }
    batch.lab_max.assign(batch.labs.size(), 0);

    std::vector<fs::path> students;
    for (const auto& e : fs::directory_iterator(o.submissions))
        if (e.is_directory() && e.path().filename().string()[0] != '.')
            students.push_back(e.path());
    std::sort(students.begin(), students.end());

    {
        Sandbox box("configure", o.limits);
        batch.sandbox = box.describe();
        mirror(o.source_dir + "/labs", work);  // the skeleton, so every layer file exists
        configure(o, build, work, box);
    }

    size_t index = 0;
    for (const auto& path : students) {
        StudentResult student;
        student.name = path.filename();
        progress << "[" << ++index << "/" << students.size() << "] " << student.name << ": "
                 << std::flush;
        Sandbox box(cgroup_name(student.name), o.limits);
        std::string log_base = o.results_dir + "/" + student.name;
        auto labs = labs_of(path);
        bool built = false;
        if (!labs) {
            student.notes.push_back("no labs/ directory in the submission");
        } else {
            mirror(*labs, work);
            fs::remove(log_base + ".build.log");
            std::vector<std::string> argv{"cmake", "--build", build, "--target"};
            argv.insert(argv.end(), targets.begin(), targets.end());
            auto start = Clock::now();
            auto outcome = box.run(argv, start + std::chrono::seconds(o.build_time_limit),
                                   log_base + ".build.log");
            student.build_seconds = seconds_since(start);
            if (outcome.timed_out)
                student.notes.push_back("build: time limit (" + std::to_string(o.build_time_limit) +
                                        " s) reached");
            else if (outcome.status != 0)
                student.notes.push_back("does not compile: " +
                                        first_error(log_base + ".build.log", work));
            else
                built = true;
            box.kill_leftovers();
        }

        auto start = Clock::now();
        auto deadline = start + std::chrono::seconds(o.time_limit);
        fs::remove(log_base + ".grade.log");
        for (int lab : batch.labs) {
            std::string name = "lab" + two_digits(lab);
            if (!built) {
                LabResult none;
                none.lab = lab;
                none.program = nslab::lab_program_name(lab);
                none.error = student.notes.empty() ? "not graded" : student.notes.front();
                student.labs.push_back(none);
                continue;
            }
            bool timed_out = false;
            auto result = run_grader(
                build + "/bin", lab, o.filter, [&](const std::vector<std::string>& argv) {
                    RunOutcome run;
                    if (Clock::now() >= deadline) {
                        run.error = "not graded: time limit reached";
                        return run;
                    }
                    auto outcome = box.run(argv, deadline, log_base + ".grade.log");
                    run.status = outcome.status;
                    timed_out = outcome.timed_out;
                    if (timed_out)
                        run.error = "time limit (" + std::to_string(o.time_limit) + " s) reached";
                    return run;
                });
            auto left = box.kill_leftovers();
            if (!left.empty() && !timed_out)  // past the limit, killing it is expected
                student.notes.push_back(name + ": left processes running: " + join(left, ", ") +
                                        " (killed)");
            for (const auto& limit : box.limits_hit())
                student.notes.push_back(name + ": hit the " + limit + " limit of its cgroup");
            if (!result.error.empty()) student.notes.push_back(name + ": " + result.error);
            student.labs.push_back(std::move(result));
        }
        student.grade_seconds = built ? seconds_since(start) : 0;

        for (size_t i = 0; i < batch.labs.size(); ++i)
            batch.lab_max[i] = std::max(batch.lab_max[i], student.labs[i].max_points());
        ReportInfo info{student.name, false, o.hidden_claims, student.grade_seconds, student.notes};
        std::ofstream text(log_base + ".txt"), json(log_base + ".json");
        write_report(text, "text", info, student.labs);
        write_report(json, "json", info, student.labs);
        char line[120];
        std::snprintf(line, sizeof line, "%d points; build %.1f s, grade %.1f s", student.points(),
                      student.build_seconds, student.grade_seconds);
        progress << line << (student.notes.empty() ? "" : "; " + join(student.notes, "; ")) << "\n";
        batch.students.push_back(std::move(student));
    }
    return batch;
}

namespace {

std::string csv(const std::string& field) {
    if (field.find_first_of(",\"\n") == std::string::npos) return field;
    std::string out = "\"";
    for (char ch : field) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return out + "\"";
}

}  // namespace

void write_summary(std::ostream& out, const std::string& format, const Batch& batch) {
    int max = 0;
    for (int m : batch.lab_max) max += m;
    char cell[64];
    if (format == "csv") {
        out << "student";
        for (int lab : batch.labs) out << ",lab" << two_digits(lab);
        out << ",total,max,build_seconds,grade_seconds,notes\n";
        for (const auto& s : batch.students) {
            out << csv(s.name);
            for (const auto& lab : s.labs) out << "," << lab.points();
            std::snprintf(cell, sizeof cell, ",%d,%d,%.1f,%.1f,", s.points(), max, s.build_seconds,
                          s.grade_seconds);
            out << cell << csv(join(s.notes, "; ")) << "\n";
        }
        return;
    }
    if (format != "text")
        throw std::invalid_argument("--submissions writes text or csv, not '" + format + "'");
    size_t width = 7;
    for (const auto& s : batch.students) width = std::max(width, s.name.size());
    out << "nslab: " << batch.students.size() << " submissions; " << batch.sandbox << "\n\n";
    std::snprintf(cell, sizeof cell, "%-*s", static_cast<int>(width), "student");
    out << cell;
    for (int lab : batch.labs) out << "  lab" << two_digits(lab) << "  ";
    out << "  total    build   grade  notes\n";
    for (const auto& s : batch.students) {
        std::snprintf(cell, sizeof cell, "%-*s", static_cast<int>(width), s.name.c_str());
        out << cell;
        for (size_t i = 0; i < s.labs.size(); ++i) {
            std::snprintf(cell, sizeof cell, "  %3d/%-3d", s.labs[i].points(), batch.lab_max[i]);
            out << cell;
        }
        std::snprintf(cell, sizeof cell, "  %3d/%-3d %6.1fs %6.1fs  ", s.points(), max,
                      s.build_seconds, s.grade_seconds);
        std::string row = cell + join(s.notes, "; ");
        out << row.substr(0, row.find_last_not_of(' ') + 1) << "\n";
    }
}

}  // namespace tool

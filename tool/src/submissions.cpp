#include "submissions.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "nslab/cli.hpp"
#include "nslab/errors.hpp"
#include "nslab/parse.hpp"
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
// The compiler names the student's file by the path it was given: absolute,
// or relative to the build when a compiler cache rewrote it (ccache's
// base_dir); either prefix goes, leaving the file below labs/ and its line.
std::string first_error(const std::string& log_file, const std::string& work,
                        const std::string& build) {
    const std::string prefixes[] = {work + "/",
                                    fs::path(work).lexically_relative(build).string() + "/"};
    std::ifstream in(log_file);
    for (std::string line; std::getline(in, line);) {
        if (line.find("error") == std::string::npos || line.rfind("FAILED", 0) == 0) continue;
        for (const std::string& prefix : prefixes)
            for (size_t at; (at = line.find(prefix)) != std::string::npos;)
                line.erase(at, prefix.size());
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

// "42 s", "3 min 05 s", "1 h 02 min": for the progress line.
std::string duration_text(double seconds) {
    long s = std::lround(seconds);
    char text[32];
    if (s < 60)
        std::snprintf(text, sizeof text, "%ld s", s);
    else if (s < 3600)
        std::snprintf(text, sizeof text, "%ld min %02ld s", s / 60, s % 60);
    else
        std::snprintf(text, sizeof text, "%ld h %02ld min", s / 3600, s % 3600 / 60);
    return text;
}

// FNV-1a over the sorted names: shards that saw different classes differ here.
std::string roster_of(const std::vector<fs::path>& students) {
    std::uint64_t hash = 14695981039346656037ull;
    for (const auto& path : students)
        for (unsigned char ch : path.filename().string() + "\n")
            hash = (hash ^ ch) * 1099511628211ull;
    char text[20];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
    return text;
}

// Configures the one build every submission shares, its layer directory
// pointing at the copy that mirror() keeps in step with each student.
void configure(const BatchOptions& o, const std::string& build, const std::string& work,
               Sandbox& box) {
    // tool/configure: the one place a tree is configured (a new one from the
    // student preset; an existing one again with these values).
    std::vector<std::string> argv{o.source_dir + "/tool/configure", build, "student"};
    argv.push_back("-DNSLAB_LAYER_DIR=" + work);
    argv.push_back("-DNSLAB_EXTRA_GRADERS_DIR=" + o.extra_tests);
    std::string log = o.results_dir + "/configure.log";
    fs::remove(log);
    auto outcome = box.run(argv, Clock::now() + std::chrono::seconds(o.build_time_limit), log);
    if (outcome.timed_out || outcome.status != 0)
        throw std::runtime_error("cannot configure the grading build: see " + log);
}

}  // namespace

Shard parse_shard(const std::string& text) {
    Shard shard;
    char rest = 0;
    if (std::sscanf(text.c_str(), "%d/%d%c", &shard.index, &shard.count, &rest) != 2 ||
        shard.count < 1 || shard.index < 1 || shard.index > shard.count)
        nslab::parse::invalid("--shard", text, "expected I/N with 1 <= I <= N");
    return shard;
}

void Batch::add(StudentResult student) {
    lab_max.resize(labs.size(), 0);
    for (size_t i = 0; i < labs.size() && i < student.labs.size(); ++i)
        lab_max[i] = std::max(lab_max[i], student.labs[i].max_points());
    students.push_back(std::move(student));
}

int StudentResult::points() const {
    int sum = 0;
    for (const auto& lab : labs) sum += lab.points();
    return sum;
}

Batch grade_submissions(const BatchOptions& o, std::ostream& progress) {
    Batch batch;
    // Absolute: the compiler names files absolutely, and first_error strips this prefix.
    std::string root = fs::absolute(o.build_root).lexically_normal().string();
    std::string build = root + "/submissions";
    std::string work = root + "/submissions-src/labs";
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

    std::vector<fs::path> everyone, students;
    for (const auto& e : fs::directory_iterator(o.submissions))
        if (e.is_directory() && e.path().filename().string()[0] != '.')
            everyone.push_back(e.path());
    std::sort(everyone.begin(), everyone.end());
    for (size_t k = 0; k < everyone.size(); ++k)
        if (static_cast<int>(k % o.shard.count) == o.shard.index - 1)
            students.push_back(everyone[k]);
    batch.shard = o.shard;
    batch.class_size = everyone.size();
    batch.roster = roster_of(everyone);

    {
        Sandbox box("configure", o.limits);
        batch.sandbox = box.describe();
        mirror(o.source_dir + "/labs", work);  // the skeleton, so every layer file exists
        configure(o, build, work, box);
    }

    size_t index = 0;
    auto batch_start = Clock::now();
    for (const auto& path : students) {
        StudentResult student;
        student.name = path.filename();
        student.time_limit = o.time_limit;
        if (o.show_progress) {
            double elapsed = seconds_since(batch_start);
            progress << "submission " << index + 1 << " of " << students.size()
                     << (o.shard.count > 1 ? " in shard " + std::to_string(o.shard.index) + "/" +
                                                 std::to_string(o.shard.count)
                                           : "")
                     << ": elapsed " << duration_text(elapsed) << ", "
                     << (index ? "about " +
                                     duration_text(elapsed / index * (students.size() - index)) +
                                     " left"
                               : "time left not known yet")
                     << "\n";
        }
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
                                        first_error(log_base + ".build.log", work, build));
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

        ReportInfo info{student.name, false, o.hidden_claims, student.grade_seconds, student.notes};
        std::ofstream text(log_base + ".txt"), json(log_base + ".json");
        write_report(text, "text", info, student.labs);
        write_report(json, "json", info, student.labs);
        char line[120];
        std::snprintf(line, sizeof line, "%d points; build %.1f s, grade %.1f s", student.points(),
                      student.build_seconds, student.grade_seconds);
        progress << line << (student.notes.empty() ? "" : "; " + join(student.notes, "; ")) << "\n";
        batch.add(std::move(student));
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

using nlohmann::json;

std::string shard_text(const Shard& shard) {
    return std::to_string(shard.index) + "/" + std::to_string(shard.count);
}

// The class: each student's report (the same as NAME.json) with its times,
// and which share of which class this is, for merge_shards.
void write_class_json(std::ostream& out, const Batch& batch) {
    json students = json::array();
    for (const auto& s : batch.students) {
        std::ostringstream text;
        write_report(text, "json", {s.name, false, {}, s.grade_seconds, s.notes}, s.labs);
        json report = json::parse(text.str());
        report["build_seconds"] = s.build_seconds;
        report["time_limit"] = s.time_limit;
        students.push_back(std::move(report));
    }
    json doc{{"tool", "nslab"},
             {"schema", 1},
             {"kind", "class"},
             {"shard", {{"index", batch.shard.index}, {"count", batch.shard.count}}},
             {"class", {{"submissions", batch.class_size}, {"roster", batch.roster}}},
             {"labs", batch.labs},
             {"sandbox", batch.sandbox},
             {"students", students}};
    out << doc.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

Batch read_class_json(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw nslab::UsageError("cannot read " + file);
    json doc = json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || doc.value("kind", "") != "class")
        throw nslab::UsageError(file + ": not the json of grade --submissions --format json");
    Batch batch;
    batch.shard = {doc.at("shard").at("index").get<int>(), doc.at("shard").at("count").get<int>()};
    batch.class_size = doc.at("class").at("submissions").get<size_t>();
    batch.roster = doc.at("class").at("roster").get<std::string>();
    batch.labs = doc.at("labs").get<std::vector<int>>();
    batch.sandbox = doc.value("sandbox", "");
    for (const auto& s : doc.at("students")) {
        ReportInfo info;
        StudentResult student;
        student.labs = read_json_report(s.dump(), info);
        student.name = info.tree;
        student.notes = info.notes;
        student.grade_seconds = info.seconds;
        student.build_seconds = s.value("build_seconds", 0.0);
        student.time_limit = s.value("time_limit", 0);
        batch.add(std::move(student));
    }
    return batch;
}

}  // namespace

Batch merge_shards(const std::vector<std::string>& files) {
    std::map<int, std::string> given;              // shard index -> file
    std::map<std::string, std::string> graded_in;  // student -> file
    Batch merged;
    std::string first;
    for (const auto& file : files) {
        Batch shard = read_class_json(file);
        if (first.empty()) {
            first = file;
            merged.labs = shard.labs;
            merged.shard = {1, shard.shard.count};
            merged.class_size = shard.class_size;
            merged.roster = shard.roster;
            merged.sandbox = shard.sandbox;
        } else if (shard.shard.count != merged.shard.count) {
            throw nslab::UsageError(file + " is shard " + shard_text(shard.shard) + " but " +
                                    first + " is one of " + std::to_string(merged.shard.count));
        } else if (shard.roster != merged.roster || shard.labs != merged.labs) {
            throw nslab::UsageError(file + " and " + first + " graded different classes or labs (" +
                                    std::to_string(shard.class_size) + " and " +
                                    std::to_string(merged.class_size) + " submissions)");
        }
        auto [at, fresh] = given.emplace(shard.shard.index, file);
        if (!fresh)
            throw nslab::UsageError("shard " + shard_text(shard.shard) +
                                    " is given twice: " + at->second + " and " + file);
        for (auto& student : shard.students) {
            auto [seen, once] = graded_in.emplace(student.name, file);
            if (!once)
                throw nslab::UsageError(student.name + " is in two shards: " + seen->second +
                                        " and " + file);
            merged.add(std::move(student));
        }
    }
    std::vector<std::string> missing;
    for (int i = 1; i <= merged.shard.count; ++i)
        if (!given.count(i)) missing.push_back(shard_text({i, merged.shard.count}));
    if (!missing.empty())
        throw nslab::UsageError("missing shard" + std::string(missing.size() > 1 ? "s " : " ") +
                                join(missing, ", ") + ": give every shard of the class");
    std::sort(merged.students.begin(), merged.students.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    merged.shard = {1, 1};
    return merged;
}

void write_summary(std::ostream& out, const std::string& format, const Batch& batch) {
    if (format == "json") return write_class_json(out, batch);
    int max = 0;
    for (int m : batch.lab_max) max += m;
    char cell[64];
    if (format == "csv") {
        out << "student";
        for (int lab : batch.labs) out << ",lab" << two_digits(lab);
        out << ",total,max,build_seconds,grade_seconds,time_limit,notes\n";
        for (const auto& s : batch.students) {
            out << csv(s.name);
            for (const auto& lab : s.labs) out << "," << lab.points();
            std::snprintf(cell, sizeof cell, ",%d,%d,%.1f,%.1f,%d,", s.points(), max,
                          s.build_seconds, s.grade_seconds, s.time_limit);
            out << cell << csv(join(s.notes, "; ")) << "\n";
        }
        return;
    }
    if (format != "text")
        throw std::invalid_argument("--submissions writes text, csv or json, not '" + format + "'");
    size_t width = 7;
    for (const auto& s : batch.students) width = std::max(width, s.name.size());
    out << "nslab: " << batch.students.size();
    if (batch.shard.count > 1)
        out << " of " << batch.class_size << " submissions (shard " << shard_text(batch.shard)
            << ")";
    else
        out << " submissions";
    out << "; " << batch.sandbox << "\n\n";
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

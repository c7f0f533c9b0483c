#include "report.hpp"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "feedback.hpp"

namespace tool {

const char* const report_formats = "text, json, junit, gradescope, classroom";

namespace {

using nlohmann::json;

std::string indented(const std::string& text) {
    std::istringstream in(text);
    std::string result;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) result += "      " + line + "\n";
    return result;
}

std::string full_name(const Claim& c) {
    return c.suite + "." + c.name;
}

std::string status_of(const Claim& c) {
    return c.passed ? "passed" : (c.skipped ? "skipped" : "failed");
}

// What a student reads for one claim: why it failed and where to look.
std::string claim_output(const Claim& c, Lang lang) {
    if (c.passed) return "";
    return c.skipped ? say(lang, "skipped") + "\n" : note_text(note_of(c, lang), lang);
}

struct Totals {
    int points = 0, max = 0, claims = 0, passed = 0, failed = 0, skipped = 0, errors = 0;
    double seconds = 0;
};

Totals totals_of(const std::vector<LabResult>& results) {
    Totals t;
    for (const auto& lab : results) {
        t.points += lab.points();
        t.max += lab.max_points();
        t.errors += !lab.error.empty();
        for (const auto& c : lab.claims) {
            ++t.claims;
            t.passed += c.passed;
            t.skipped += c.skipped;
            t.failed += !c.passed && !c.skipped;
            t.seconds += c.seconds;
        }
    }
    return t;
}

std::string dump(const json& j) {
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

void write_text(std::ostream& out, const ReportInfo& info, const std::vector<LabResult>& results) {
    const char* green = info.colour ? "\033[32m" : "";
    const char* red = info.colour ? "\033[31m" : "";
    const char* reset = info.colour ? "\033[0m" : "";
    const Lang lang = info.lang;
    out << say(lang, "nslab scoreboard")
        << (info.tree.empty() ? ""
                              : say(lang, " (") + say(lang, "tree: ") + info.tree +
                                    (lang == Lang::en ? ")" : "）"))
        << "\n\n";
    const std::string claims = say(lang, "claims"), points = say(lang, "points");
    char line[200];
    for (const auto& lab : results) {
        bool full = lab.error.empty() && lab.passed() == static_cast<int>(lab.claims.size());
        std::snprintf(line, sizeof line, "  %-16s %3d/%-3d %s  %3d/%-3d %s  ", lab.program.c_str(),
                      lab.passed(), static_cast<int>(lab.claims.size()), claims.c_str(),
                      lab.points(), lab.max_points(), points.c_str());
        out << line << (full ? green : red)
            << (full ? "ok" : (lab.error.empty() ? "FAIL" : lab.error)) << reset << "\n";
    }
    Totals t = totals_of(results);
    // Padded to 16 columns by hand: "%-16s" counts bytes, and a Chinese
    // character is 3 bytes and 2 columns.
    std::string total = say(lang, "total");
    size_t columns = 0;
    for (unsigned char ch : total) columns += (ch & 0xC0) != 0x80 ? (ch >= 0xE0 ? 2 : 1) : 0;
    total += std::string(columns < 16 ? 16 - columns : 0, ' ');
    std::snprintf(line, sizeof line, "  %s %3d/%-3d %s  %3d/%-3d %s\n", total.c_str(), t.passed,
                  t.claims, claims.c_str(), t.points, t.max, points.c_str());
    out << "  " << std::string(60, '-') << "\n" << line;
    if (!info.verbose) write_notes(out, results, info.colour, lang);
    bool header = false;
    for (const auto& lab : results)
        for (const auto& c : lab.claims) {
            if (c.passed || !info.verbose) continue;
            if (!header)
                out << "\n" << say(lang, "What to revisit (GoogleTest's text, --verbose):") << "\n";
            header = true;
            out << "  " << red << "FAIL" << reset << " " << lab.program << "  " << full_name(c)
                << say(lang, " (") << c.points << say(lang, " points)")
                << (c.step.empty() ? "" : " - handout: " + step_in(lang, c.step)) << "\n"
                << indented(c.skipped ? say(lang, "skipped") : printable(c.feedback));
        }
    for (const auto& note : info.notes) out << "\n" << say(lang, "note: ") << note;
    out << "\n"
        << say(lang, "summary: ") << t.passed << "/" << t.claims << " " << claims << say(lang, ", ")
        << t.points << "/" << t.max << " " << points << "\n";
}

void write_json(std::ostream& out, const ReportInfo& info, const std::vector<LabResult>& results) {
    Totals t = totals_of(results);
    json report{{"tool", "nslab"},      {"schema", 1},  {"tree", info.tree},
                {"points", t.points},   {"max", t.max}, {"seconds", info.seconds},
                {"labs", json::array()}};
    if (!info.notes.empty()) report["notes"] = info.notes;
    for (const auto& lab : results) {
        json l{{"lab", lab.lab},
               {"program", lab.program},
               {"points", lab.points()},
               {"max", lab.max_points()},
               {"claims", json::array()}};
        if (!lab.error.empty()) l["error"] = lab.error;
        for (const auto& c : lab.claims) {
            l["claims"].push_back({{"name", full_name(c)},
                                   {"points", c.passed ? c.points : 0},
                                   {"max", c.points},
                                   {"status", status_of(c)},
                                   {"step", c.step},
                                   {"feedback", c.feedback},
                                   {"seconds", c.seconds},
                                   {"hidden", info.hidden_claims.count(full_name(c)) > 0}});
            if (!c.sentence.empty()) l["claims"].back()["sentence"] = c.sentence;
        }
        report["labs"].push_back(l);
    }
    out << dump(report);
}

std::string xml(const std::string& text) {
    std::string out;
    for (char ch : printable(text)) {
        switch (ch) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out += ch;
        }
    }
    return out;
}

std::string seconds_text(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", seconds);
    return text;
}

std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

// The shape Jenkins, GitLab, GitHub test reporters and IDEs read: one
// testsuite per lab, one testcase per claim, points in the properties.
// Jenkins' schema (junit-10.xsd) has no `skipped` on <testsuites>: the
// skips are counted per <testsuite> only.
void write_junit(std::ostream& out, const ReportInfo& info, const std::vector<LabResult>& results) {
    Totals t = totals_of(results);
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out << "<testsuites name=\"nslab" << (info.tree.empty() ? "" : " " + xml(info.tree))
        << "\" tests=\"" << t.claims + t.errors << "\" failures=\"" << t.failed << "\" errors=\""
        << t.errors << "\" time=\"" << seconds_text(info.seconds) << "\">\n";
    for (const auto& lab : results) {
        int failures = 0, skipped = 0;
        double lab_seconds = 0;
        for (const auto& c : lab.claims) {
            failures += !c.passed && !c.skipped;
            skipped += c.skipped;
            lab_seconds += c.seconds;
        }
        bool error = !lab.error.empty();
        out << "  <testsuite name=\"" << xml(lab.program) << "\" tests=\""
            << lab.claims.size() + error << "\" failures=\"" << failures << "\" errors=\"" << error
            << "\" skipped=\"" << skipped << "\" time=\"" << seconds_text(lab_seconds) << "\">\n"
            << "    <properties>\n"
            << "      <property name=\"points\" value=\"" << lab.points() << "\"/>\n"
            << "      <property name=\"max\" value=\"" << lab.max_points() << "\"/>\n"
            << "    </properties>\n";
        for (const auto& c : lab.claims) {
            out << "    <testcase name=\"" << xml(full_name(c)) << "\" classname=\""
                << xml(lab.program) << "\" time=\"" << seconds_text(c.seconds) << "\">\n";
            if (c.skipped)
                out << "      <skipped message=\"" << xml(first_line(c.feedback)) << "\"/>\n";
            else if (!c.passed)
                out << "      <failure message=\"" << xml(first_line(c.feedback)) << "\" type=\""
                    << xml(c.step) << "\">" << xml(c.feedback) << "</failure>\n";
            out << "      <system-out>" << (c.passed ? c.points : 0) << "/" << c.points << " points"
                << (c.step.empty() ? "" : "; handout: " + xml(c.step)) << "</system-out>\n"
                << "    </testcase>\n";
        }
        if (error)
            out << "    <testcase name=\"grader\" classname=\"" << xml(lab.program)
                << "\" time=\"0.000\">\n"
                << "      <error message=\"" << xml(lab.error) << "\" type=\"grader\"/>\n"
                << "    </testcase>\n";
        out << "  </testsuite>\n";
    }
    out << "</testsuites>\n";
}

// Gradescope's autograder results.json: a test per claim; instructor-only
// claims are shown to students once the grades are published.
void write_gradescope(std::ostream& out, const ReportInfo& info,
                      const std::vector<LabResult>& results) {
    Totals t = totals_of(results);
    std::ostringstream summary;
    summary << t.passed << "/" << t.claims << " claims, " << t.points << "/" << t.max
            << " points\n";
    for (const auto& note : info.notes) summary << note << "\n";
    json report{{"score", t.points},
                {"execution_time", static_cast<int>(info.seconds + 0.5)},
                {"output", ""},
                {"visibility", "visible"},
                {"stdout_visibility", "hidden"},
                {"tests", json::array()}};
    for (const auto& lab : results) {
        if (!lab.error.empty()) summary << lab.program << ": " << lab.error << "\n";
        for (const auto& c : lab.claims) {
            bool hidden = info.hidden_claims.count(full_name(c)) > 0;
            report["tests"].push_back({{"name", lab.program + ": " + full_name(c)},
                                       {"score", c.passed ? c.points : 0},
                                       {"max_score", c.points},
                                       {"status", c.passed ? "passed" : "failed"},
                                       {"output", claim_output(c, info.lang)},
                                       {"tags", {lab.program, c.suite}},
                                       {"visibility", hidden ? "after_published" : "visible"}});
        }
    }
    report["output"] = summary.str();
    out << dump(report);
}

// GitHub Classroom's runner result, as autograding-grading-reporter reads it
// (base64 in <RUNNER>_RESULTS). The reporter scores a runner in its table as
// passed tests / tests * max_score, in its "Total" row with each runner's
// weight rounded to a whole per cent, and in its notice as the sum of the
// tests' `score` over max_score. Only tests of one point each in one runner
// make all three the points earned: a claim worth 3 points is 3 tests. A lab
// whose grader did not finish is the runner's `message` (a test there would
// count in the table). The fields are those the stock graders
// (autograding-io-grader) write; `duration` is in milliseconds.
void write_classroom(std::ostream& out, const ReportInfo& info,
                     const std::vector<LabResult>& results) {
    Totals t = totals_of(results);
    json tests = json::array();
    std::string errors;
    auto test = [](const std::string& name, const std::string& status, const std::string& message,
                   const std::string& code, long duration, int score) {
        return json{{"name", name},         {"status", status}, {"message", message},
                    {"test_code", code},    {"filename", ""},   {"line_no", 0},
                    {"duration", duration}, {"score", score}};
    };
    for (const auto& lab : results) {
        if (!lab.error.empty()) errors += lab.program + ": " + lab.error + "\n";
        for (const auto& c : lab.claims)
            for (int point = 1; point <= c.points; ++point)
                tests.push_back(test(lab.program + ": " + full_name(c) +
                                         (c.points > 1 ? " (point " + std::to_string(point) +
                                                             " of " + std::to_string(c.points) + ")"
                                                       : ""),
                                     c.passed ? "pass" : "fail",
                                     point == 1 || c.passed ? printable(claim_output(c, info.lang))
                                                            : "as point 1 of this claim",
                                     full_name(c), point == 1 ? std::lround(c.seconds * 1000) : 0,
                                     c.passed ? 1 : 0));
    }
    if (tests.empty())  // the reporter divides by the number of tests
        tests.push_back(test("nslab: no claim ran", "error", errors, "", 0, 0));
    json report{{"version", 1},
                {"status", !errors.empty() ? "error" : (t.passed == t.claims ? "pass" : "fail")},
                {"max_score", t.max},
                {"message", errors},
                {"tests", tests}};
    out << dump(report);
}

}  // namespace

void write_report(std::ostream& out, const std::string& format, const ReportInfo& info,
                  const std::vector<LabResult>& results) {
    if (format == "text") return write_text(out, info, results);
    if (format == "json") return write_json(out, info, results);
    if (format == "junit") return write_junit(out, info, results);
    if (format == "gradescope") return write_gradescope(out, info, results);
    if (format == "classroom") return write_classroom(out, info, results);
    throw std::invalid_argument("unknown --format '" + format + "': expected one of " +
                                report_formats);
}

std::vector<LabResult> read_json_report(const std::string& text, ReportInfo& info) {
    json report = json::parse(text);
    if (report.value("tool", "") != "nslab")
        throw std::runtime_error("not an nslab json report (no \"tool\": \"nslab\")");
    info.tree = report.value("tree", "");
    info.seconds = report.value("seconds", 0.0);
    info.notes = report.value("notes", std::vector<std::string>{});
    std::vector<LabResult> results;
    for (const auto& l : report.at("labs")) {
        LabResult lab;
        lab.lab = l.at("lab").get<int>();
        lab.program = l.value("program", "");
        lab.error = l.value("error", "");
        for (const auto& j : l.at("claims")) {
            Claim c;
            std::string name = j.at("name").get<std::string>();
            auto dot = name.find('.');
            c.lab = lab.program;
            c.suite = name.substr(0, dot);
            c.name = dot == std::string::npos ? "" : name.substr(dot + 1);
            c.points = j.value("max", 0);
            c.passed = j.value("status", "") == "passed";
            c.skipped = j.value("status", "") == "skipped";
            c.step = j.value("step", "");
            c.sentence = j.value("sentence", "");
            c.feedback = j.value("feedback", "");
            c.seconds = j.value("seconds", 0.0);
            if (j.value("hidden", false)) info.hidden_claims.insert(name);
            lab.claims.push_back(std::move(c));
        }
        results.push_back(std::move(lab));
    }
    return results;
}

std::string printable(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        auto byte = static_cast<unsigned char>(text[i]);
        size_t length = byte < 0x80           ? 1
                        : (byte >> 5) == 0x6  ? 2
                        : (byte >> 4) == 0xE  ? 3
                        : (byte >> 3) == 0x1E ? 4
                                              : 0;
        bool valid = length > 0 && i + length <= text.size();
        for (size_t k = 1; valid && k < length; ++k)
            valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
        if (!valid) {
            out += '?';
            ++i;
            continue;
        }
        if (length == 1 && byte < 0x20 && byte != '\n' && byte != '\t')
            out += byte == '\r' ? "" : "?";  // e.g. the ESC of a colour code
        else
            out.append(text, i, length);
        i += length;
    }
    return out;
}

bool meets_expectation(const std::vector<LabResult>& results, const std::string& expect,
                       std::ostream& why) {
    bool ok = true;
    for (const auto& lab : results) {
        if (!lab.error.empty() && expect != "fail") {
            why << lab.program << ": " << lab.error << "\n";
            ok = false;
        }
        for (const auto& c : lab.claims) {
            bool own = c.suite == own_suite(lab.lab);
            if (expect == "pass" && !c.passed) {
                why << lab.program << ": claim " << c.suite << "." << c.name << " failed\n";
                ok = false;
            }
            if (expect == "own-fail" && own && c.passed) {
                why << lab.program << ": claim " << c.suite << "." << c.name
                    << " passed on the skeleton: it cannot tell a missing step from a done one\n";
                ok = false;
            }
        }
    }
    if (expect == "fail") {
        // A mutant: every claim it names must fail, and at least one must run.
        bool all_failed = true, any = false;
        for (const auto& lab : results)
            for (const auto& c : lab.claims) {
                any = true;
                if (c.passed)
                    why << c.suite << "." << c.name << " passed, but should have failed\n";
                all_failed &= !c.passed;
            }
        if (!any) why << "no claim ran: check the claim names\n";
        return any && all_failed;
    }
    return ok;
}

}  // namespace tool

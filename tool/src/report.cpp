#include "report.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace tool {

namespace {

std::string first_lines(const std::string& text, int count) {
    std::istringstream in(text);
    std::string result;
    int n = 0;
    for (std::string line; n < count && std::getline(in, line);) {
        if (line.empty()) continue;
        result += "      " + line + "\n";
        ++n;
    }
    return result;
}

void write_text(std::ostream& out, const std::string& tree, const std::vector<LabResult>& results,
                bool colour) {
    const char* green = colour ? "\033[32m" : "";
    const char* red = colour ? "\033[31m" : "";
    const char* reset = colour ? "\033[0m" : "";
    out << "nslab scoreboard" << (tree.empty() ? "" : " (tree: " + tree + ")") << "\n\n";
    int points = 0, max_points = 0, claims = 0, passed = 0;
    char line[200];
    for (const auto& lab : results) {
        points += lab.points();
        max_points += lab.max_points();
        claims += static_cast<int>(lab.claims.size());
        passed += lab.passed();
        bool full = lab.error.empty() && lab.passed() == static_cast<int>(lab.claims.size());
        std::snprintf(line, sizeof line, "  %-16s %3d/%-3d claims  %3d/%-3d points  ",
                      lab.program.c_str(), lab.passed(), static_cast<int>(lab.claims.size()),
                      lab.points(), lab.max_points());
        out << line << (full ? green : red)
            << (full ? "ok" : (lab.error.empty() ? "FAIL" : lab.error)) << reset << "\n";
    }
    std::snprintf(line, sizeof line, "  %-16s %3d/%-3d claims  %3d/%-3d points\n", "total", passed,
                  claims, points, max_points);
    out << "  " << std::string(60, '-') << "\n" << line;
    bool header = false;
    for (const auto& lab : results)
        for (const auto& c : lab.claims) {
            if (c.passed) continue;
            if (!header) out << "\nWhat to revisit:\n";
            header = true;
            out << "  " << red << "FAIL" << reset << " " << lab.program << "  " << c.suite << "."
                << c.name << " (" << c.points << " points)"
                << (c.step.empty() ? "" : " - handout: " + c.step) << "\n"
                << first_lines(c.skipped ? "skipped" : c.feedback, 6);
        }
    out << "\nsummary: " << passed << "/" << claims << " claims, " << points << "/" << max_points
        << " points\n";
}

void write_json(std::ostream& out, const std::string& tree, const std::vector<LabResult>& results) {
    nlohmann::json report;
    report["tree"] = tree;
    int points = 0, max_points = 0;
    report["labs"] = nlohmann::json::array();
    for (const auto& lab : results) {
        nlohmann::json l;
        l["lab"] = lab.lab;
        l["program"] = lab.program;
        l["points"] = lab.points();
        l["max"] = lab.max_points();
        if (!lab.error.empty()) l["error"] = lab.error;
        l["claims"] = nlohmann::json::array();
        for (const auto& c : lab.claims)
            l["claims"].push_back(
                {{"name", c.suite + "." + c.name},
                 {"points", c.passed ? c.points : 0},
                 {"max", c.points},
                 {"status", c.passed ? "passed" : (c.skipped ? "skipped" : "failed")},
                 {"step", c.step},
                 {"feedback", c.feedback}});
        points += lab.points();
        max_points += lab.max_points();
        report["labs"].push_back(l);
    }
    report["points"] = points;
    report["max"] = max_points;
    out << report.dump(2) << "\n";
}

}  // namespace

void write_report(std::ostream& out, const std::string& format, const std::string& tree,
                  const std::vector<LabResult>& results, bool colour) {
    if (format == "text") return write_text(out, tree, results, colour);
    if (format == "json") return write_json(out, tree, results);
    throw std::invalid_argument("unknown --format '" + format + "': expected text or json");
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

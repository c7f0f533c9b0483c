// The scoreboard and the machine-readable reports of a grading run.
//
// Formats (docs/grading.md describes each):
//   text        the scoreboard; colour only on a terminal
//   json        nslab's own schema; `grade --from FILE` reads it back
//   junit       JUnit XML (testsuites/testsuite/testcase) for CI systems and IDEs
//   gradescope  Gradescope's results.json
//   classroom   GitHub Classroom's autograding runner result, one test per point
#pragma once

#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "feedback.hpp"
#include "results.hpp"

namespace tool {

struct ReportInfo {
    std::string tree;                     // "solutions", "student" or a student's name
    bool colour = false;                  // text only
    std::set<std::string> hidden_claims;  // "Suite.Name" of instructor-only claims
    double seconds = 0;                   // wall time of the whole run
    std::vector<std::string> notes;       // batch grading: build failure, time limit, leftovers
    bool verbose = false;                 // text: GoogleTest's own failure text, whole
    Lang lang = Lang::en;                 // text and the notes in gradescope, classroom
};

extern const char* const report_formats;  // "text, json, junit, gradescope, classroom"

void write_report(std::ostream& out, const std::string& format, const ReportInfo& info,
                  const std::vector<LabResult>& results);

// Reads back what write_report(…, "json", …) wrote; sets info.tree and seconds.
std::vector<LabResult> read_json_report(const std::string& text, ReportInfo& info);

// Checks a run against what was expected of it and says why not on `why`.
bool meets_expectation(const std::vector<LabResult>& results, const std::string& expect,
                       std::ostream& why);

// Valid UTF-8 with no control characters but tab and newline: what XML 1.0
// and JSON accept. Grader feedback quotes program output, which can be anything.
std::string printable(const std::string& text);

}  // namespace tool

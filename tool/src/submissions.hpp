// Batch grading: every subdirectory of a submissions directory is one
// student's labs/ tree (or a copy of the whole repository holding labs/).
// Each is compiled against the reference common/ and the instructor's
// graders (only the layer files come from the student), then graded in a
// Sandbox with a time limit; the result is one table, text or CSV.
#pragma once

#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "results.hpp"
#include "sandbox.hpp"

namespace tool {

struct BatchOptions {
    std::string source_dir;   // the instructor's nslab tree
    std::string build_root;   // BUILD_ROOT/submissions is the one shared build
    std::string submissions;  // the directory of students
    std::string extra_tests;  // instructor-only *_claims.cpp, or ""
    std::string results_dir;  // per-student reports and logs
    std::vector<int> labs;
    std::string filter;
    int time_limit = 600;        // seconds to grade one submission, all its labs
    int build_time_limit = 900;  // seconds to build one
    Limits limits;
    std::set<std::string> hidden_claims;
};

struct StudentResult {
    std::string name;
    std::vector<LabResult> labs;
    std::vector<std::string> notes;  // why points are missing: build, time, leftovers
    double build_seconds = 0, grade_seconds = 0;
    int points() const;
};

struct Batch {
    std::vector<StudentResult> students;
    std::vector<int> labs;
    std::vector<int> lab_max;  // per lab, from the submissions that ran
    std::string sandbox;       // what isolation the machine allowed
};

// Grades every submission in turn; one progress line per student on `progress`.
Batch grade_submissions(const BatchOptions& options, std::ostream& progress);

// format: text (a table) or csv.
void write_summary(std::ostream& out, const std::string& format, const Batch& batch);

}  // namespace tool

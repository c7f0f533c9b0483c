// Grader results: what each claim of each lab said, read from the JSON that
// GoogleTest writes (--gtest_output=json), with the points and handout step
// the claim recorded.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace tool {

struct Claim {
    std::string lab;    // "lab01_pid"
    std::string suite;  // "Pid": the layer the claim belongs to
    std::string name;   // "NSpidHasTwoLevelsEndingIn1"
    int points = 0;
    std::string step;      // the handout step to revisit
    std::string sentence;  // the claim in one sentence, when the grader gave one
    bool passed = false;
    bool skipped = false;
    std::string feedback;  // failure messages
    double seconds = 0;
};

struct LabResult {
    int lab = 0;
    std::string program;
    std::vector<Claim> claims;
    std::string error;  // the grader itself failed to run
    int points() const;
    int max_points() const;
    int passed() const;
};

// Reads one grader's JSON report.
std::vector<Claim> parse_gtest_json(const std::string& text, const std::string& lab);

// Runs grade_labNN from bin_dir with an optional gtest filter.
LabResult run_grader(const std::string& bin_dir, int lab, const std::string& filter);

// How a grader program is run: argv in, wait status out, or why it could
// not finish ("time limit reached"). Batch grading runs it in a sandbox.
struct RunOutcome {
    int status = 0;
    std::string error;
};
using GraderRunner = std::function<RunOutcome(const std::vector<std::string>& argv)>;
LabResult run_grader(const std::string& bin_dir, int lab, const std::string& filter,
                     const GraderRunner& runner);

// The layer suite a lab's own claims are in ("Pid" for lab 01).
std::string own_suite(int lab);

}  // namespace tool

// Batch grading: every subdirectory of a submissions directory is one
// student's labs/ tree (or a copy of the whole repository holding labs/).
// Each is compiled against the reference common/ and the instructor's
// graders (only the layer files come from the student), then graded in a
// Sandbox with a time limit; the result is one table, text or CSV, or the
// class's JSON, which `--merge` joins when shards graded it on many machines.
#pragma once

#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "results.hpp"
#include "sandbox.hpp"

namespace tool {

// The I-th of N shares of a class (1-based): the sorted submissions k with
// k mod N == I - 1, so every machine that sees the same class picks the same.
struct Shard {
    int index = 1, count = 1;
};

// "I/N" with 1 <= I <= N; throws nslab::UsageError naming --shard.
Shard parse_shard(const std::string& text);

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
    Shard shard;
    bool show_progress = false;  // k of n, elapsed, time left (on a terminal)
};

struct StudentResult {
    std::string name;
    std::vector<LabResult> labs;
    std::vector<std::string> notes;  // why points are missing: build, time, leftovers
    double build_seconds = 0, grade_seconds = 0;
    int time_limit = 0;  // the seconds its graders were given
    int points() const;
};

struct Batch {
    std::vector<StudentResult> students;
    std::vector<int> labs;
    std::vector<int> lab_max;  // per lab, from the submissions that ran
    std::string sandbox;       // what isolation the machine allowed
    Shard shard;
    size_t class_size = 0;            // submissions in the whole class, every shard's
    std::string roster;               // a checksum of every submission's name
    void add(StudentResult student);  // keeps lab_max
};

// Grades every submission in turn; one progress line per student on `progress`.
Batch grade_submissions(const BatchOptions& options, std::ostream& progress);

// format: text (a table), csv, or json (the class: every student's report,
// the shard and the class it belongs to).
void write_summary(std::ostream& out, const std::string& format, const Batch& batch);

// Joins the json summaries of shards 1/N ... N/N of one class, in any order;
// refuses (nslab::UsageError naming the files) a shard given twice, a
// missing one, or shards of different classes.
Batch merge_shards(const std::vector<std::string>& files);

}  // namespace tool

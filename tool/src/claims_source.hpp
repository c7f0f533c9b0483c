// The claims as their source states them: every `TEST(Suite, Name)` of a
// grader file opens with `claim(points, "step")`. Read without building or
// running anything, so handouts can be checked against the code and the
// instructor's private claims can be told apart from the public ones.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace tool {

struct SourceClaim {
    std::string suite, name;  // "Pid", "CommandIsPid1"
    int points = -1;          // -1: the TEST does not open with claim(N, ...)
    int line = 0;
    std::string full() const { return suite + "." + name; }
};

std::vector<SourceClaim> claims_in_source(const std::string& text);

// "Suite.Name" of every claim in DIR/*_claims.cpp (the --extra-tests files).
std::set<std::string> claim_names_in_dir(const std::string& dir);

// The rows of a handout's "What the grader checks" table: "Suite.Name" -> points.
// `found` says whether the section exists at all.
std::map<std::string, int> handout_table(const std::string& markdown, bool& found);

// nslab-tool check-handouts [--source DIR] [--bin DIR]: every lab handout's
// table lists exactly its layer's claims with their points; with --bin, the
// built graders list the same claims (gtest_list_tests). Exit 1 on drift.
int check_handouts_command(const std::vector<std::string>& args);

}  // namespace tool

// What a student reads for a failed claim: a teacher's note made from the
// grader's failure text, not GoogleTest's own words.
//
// Graders say what they expected and observed in lines of a fixed form
// (tests/graders/harness.hpp, note()):
//   nslab: expected: <text>
//   nslab: observed: <text>
//   nslab: step: <the handout step, when it is not the claim's own>
//   nslab: stderr: <the runtime's own line, when the container did not start>
//   nslab: did-not-start: <why>
//   nslab: hang: <what the claim waited for, and how long>
// An assertion without them is read from GoogleTest's text ("Expected
// equality of these values", "Value of", ...): its values, never its
// expressions, source paths or "Which is:". The raw text stays in the JSON
// and JUnit reports and under --verbose.
#pragma once

#include <string>
#include <vector>

#include "results.hpp"

namespace tool {

// The language of the notes and the scoreboard: English, or Chinese for the
// students who read the Chinese handouts. Values the kernel or a grader
// printed stay as they are in both.
enum class Lang { en, zh_CN };

// "en" or "zh-CN" (or "zh_CN"); anything else throws std::invalid_argument.
Lang lang_named(const std::string& name);

// zh_CN when the locale of messages (LC_ALL, else LC_MESSAGES, else LANG: the
// first one set) starts with "zh_CN", else English.
Lang lang_of_environment();

// One of the scoreboard's own words in `lang`: say(Lang::zh_CN, "total").
// Words without a translation come back as they are.
std::string say(Lang lang, const std::string& english);

// A handout step in `lang`: "lab03 step 1 (CLONE_NEWUTS)" -> "实验 03 第 1 步（CLONE_NEWUTS）".
std::string step_in(Lang lang, const std::string& step);

// The claim "Suite.Name" in one sentence from tests/graders/claims.tsv
// (compiled in); empty when the table has no row for it.
std::string claim_sentence(Lang lang, const std::string& claim);

// One failed assertion of a claim.
struct Finding {
    std::string said;  // the grader's own sentence for it
    std::string expected, observed;
    std::string step;          // the step to revisit, when not the claim's own
    std::string runtime_line;  // the runtime's line: the container did not start
};

struct Note {
    std::string sentence;  // the claim in one sentence
    std::string step;      // the step to revisit
    std::vector<Finding> findings;
    // One root cause, one message: what made every finding of this claim.
    enum class Cause { none, not_written, did_not_start, hang } cause = Cause::none;
    std::string cause_text;  // "not implemented yet: lab03, step 2", the stderr line, the hang
    std::string cause_key;   // equal for claims blocked by the same cause ("lab06 step 2")
};

Note note_of(const Claim& claim, Lang lang = Lang::en);

// One claim's note, indented for the scoreboard (and Gradescope's output).
std::string note_text(const Note& note, Lang lang = Lang::en);

// "NSpidHasTwoLevelsEndingIn1" -> "NSpid has two levels ending in 1".
std::string sentence_of_name(const std::string& name);

// The scoreboard's "What to revisit" part for the failed claims of `results`.
void write_notes(std::ostream& out, const std::vector<LabResult>& results, bool colour,
                 Lang lang = Lang::en);

}  // namespace tool

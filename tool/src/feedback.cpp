#include "feedback.hpp"

#include <cctype>
#include <map>
#include <ostream>
#include <regex>
#include <sstream>

#include "report.hpp"

namespace tool {

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string trim(std::string s) {
    size_t start = s.find_first_not_of(" \t");
    if (start == std::string::npos) return "";
    size_t end = s.find_last_not_of(" \t");
    return s.substr(start, end - start + 1);
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

// A failure's location line: "path/file.cpp:65" or "unknown file".
bool is_location(const std::string& line) {
    static const std::regex location(R"(^\S+:\d+$)");
    return line == "unknown file" || std::regex_match(line, location);
}

// GoogleTest prints strings quoted; the kernel's values read better bare.
std::string unquote(std::string value) {
    value = trim(value);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
    return value;
}

// The failures in a claim's raw feedback, one text each.
std::vector<std::vector<std::string>> failures_of(const std::string& feedback) {
    std::vector<std::vector<std::string>> failures;
    for (const auto& line : lines_of(feedback)) {
        if (is_location(line) || failures.empty()) failures.emplace_back();
        if (!is_location(line)) failures.back().push_back(line);
    }
    return failures;
}

// One failure's text -> what was expected and observed, and the grader's words.
Finding finding_of(const std::vector<std::string>& text) {
    static const std::regex compared(
        R"(^Expected: \((.*)\) (==|!=|<|<=|>|>=) \((.*)\), actual: (.*) vs (.*)$)");
    static const std::map<std::string, std::string> wanted = {
        {"!=", "not "},      {"<", "less than "}, {"<=", "at most "},
        {">", "more than "}, {">=", "at least "}, {"==", ""}};
    Finding f;
    std::vector<std::string> said;
    size_t i = 0;
    auto take_said = [&](const std::string& line) {
        if (starts_with(line, "nslab: expected: "))
            f.expected = line.substr(17);
        else if (starts_with(line, "nslab: observed: "))
            f.observed = line.substr(17);
        else if (starts_with(line, "nslab: step: "))
            f.step = line.substr(13);
        else if (starts_with(line, "nslab: stderr: "))
            f.runtime_line = line.substr(15);
        else if (starts_with(line, "nslab: "))
            said.push_back(line);  // did-not-start, hang
        else if (!trim(line).empty())
            said.push_back(trim(line));
    };
    std::smatch m;
    if (!text.empty() && text[0] == "Expected equality of these values:") {
        // "  expr" then, when it differs, "    Which is: value"; observed first.
        std::vector<std::string> values;
        for (i = 1; i < text.size() && starts_with(text[i], "  "); ++i) {
            if (starts_with(text[i], "    Which is: ") && !values.empty())
                values.back() = text[i].substr(14);
            else if (starts_with(text[i], "    ")) {
                // "With diff:" and its lines: the values say it already
            } else
                values.push_back(trim(text[i]));
        }
        while (i < text.size() && (text[i] == "With diff:" || starts_with(text[i], "@@"))) ++i;
        if (values.size() == 2) {
            f.observed = unquote(values[0]);
            f.expected = unquote(values[1]);
        }
    } else if (!text.empty() && std::regex_match(text[0], m, compared)) {
        f.observed = unquote(m[4]);
        f.expected = wanted.at(m[2]) + unquote(m[5]);
        i = 1;
    } else if (!text.empty() && starts_with(text[0], "Value of: ")) {
        // EXPECT_TRUE/FALSE: the grader's message says it all; skip
        // "  Actual: false", "Expected: true".
        for (i = 1; i < text.size() &&
                    (starts_with(text[i], "  Actual: ") || starts_with(text[i], "Expected: "));
             ++i) {}
    } else if (!text.empty() && starts_with(text[0], "C++ exception with description \"")) {
        // The description may span lines (the harness's notes): up to the
        // line that ends it.
        std::string joined;
        for (i = 0; i < text.size(); ++i) {
            joined += (i ? "\n" : "") + text[i];
            if (std::regex_search(text[i], std::regex(R"(" thrown in the test body\.?$)"))) break;
        }
        ++i;
        std::string description = joined.substr(joined.find('"') + 1);
        description = description.substr(0, description.rfind("\" thrown in the test body"));
        for (const auto& line : lines_of(description)) take_said(line);
        if (f.observed.empty() && said.size() == 1 && !starts_with(said[0], "nslab: ")) {
            f.observed = "the grader stopped: " + said[0];
            said.clear();
        }
    } else if (!text.empty() && text[0] == "Failed") {
        i = 1;
    }
    for (; i < text.size() && text[i] != "Google Test trace:"; ++i) take_said(text[i]);
    // SCOPED_TRACE lines ("file:line: text"): the text is context, the
    // handout line is the claim's step already.
    static const std::regex trace(R"(^\S+:\d+: (.*)$)");
    for (++i; i < text.size(); ++i)
        if (std::regex_match(text[i], m, trace) && !starts_with(m[1], "handout: "))
            said.insert(said.begin(), std::string(m[1]) + ":");
    for (const auto& s : said) f.said += (f.said.empty() ? "" : " ") + s;
    return f;
}

std::string after(const std::string& text, const std::string& marker) {
    size_t at = text.find(marker);
    return at == std::string::npos ? "" : trim(text.substr(at + marker.size()));
}

}  // namespace

std::string sentence_of_name(const std::string& name) {
    std::vector<std::string> words;
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i], before = i ? name[i - 1] : ' ';
        bool start = i == 0 ||
                     (std::isupper(c) && (std::islower(before) || std::isdigit(before))) ||
                     (std::isdigit(c) && std::isalpha(before));
        if (start) words.emplace_back();
        words.back() += c;
    }
    std::string sentence;
    for (size_t w = 0; w < words.size(); ++w) {
        std::string word = words[w];
        int upper = 0;
        for (char c : word) upper += std::isupper(c) != 0;
        if (w > 0 && upper == 1) word[0] = static_cast<char>(std::tolower(word[0]));
        sentence += (w ? " " : "") + word;
    }
    return sentence;
}

Note note_of(const Claim& claim) {
    Note n;
    n.sentence = claim.sentence.empty() ? sentence_of_name(claim.name) : claim.sentence;
    n.step = claim.step;
    for (const auto& text : failures_of(claim.feedback)) {
        Finding f = finding_of(text);
        if (f.said.empty() && f.expected.empty() && f.observed.empty()) continue;
        n.findings.push_back(std::move(f));
    }
    // One root cause for the claim: an unwritten step, a container that did
    // not start, a hang. The first finding that shows one names it.
    static const std::regex unwritten(R"(not implemented yet: (lab\d\d)\w*, step (\d+)[^\n"]*)");
    for (const auto& f : n.findings) {
        std::string all = f.said + "\n" + f.observed + "\n" + f.runtime_line;
        std::smatch m;
        if (std::regex_search(all, m, unwritten)) {
            n.cause = Note::Cause::not_written;
            n.cause_key = std::string(m[1]) + " step " + std::string(m[2]);
            n.cause_text = "step " + std::string(m[2]) + " is not written yet: " + m.str(0);
            n.step = n.cause_key;
            break;
        }
        if (std::string hang = after(f.said, "nslab: hang: "); !hang.empty()) {
            n.cause = Note::Cause::hang;
            n.cause_text = hang;
            break;
        }
        if (all.find("nslab: did-not-start: ") != std::string::npos) {
            n.cause = Note::Cause::did_not_start;
            n.cause_key = f.runtime_line;
            n.cause_text = after(f.said, "nslab: did-not-start: ");
            break;
        }
    }
    if (n.cause == Note::Cause::none && !n.findings.empty() && !n.findings.front().step.empty())
        n.step = n.findings.front().step;
    return n;
}

std::string note_text(const Note& n) {
    std::ostringstream out;
    auto field = [&](const char* label, const std::string& text) {
        if (!text.empty()) out << "      " << label << printable(text) << "\n";
    };
    field("claim:    ", n.sentence);
    if (n.cause == Note::Cause::did_not_start) {
        field("observed: the container did not start: ", n.cause_text);
        field("stderr:   ", n.findings.front().runtime_line);
    } else if (n.cause == Note::Cause::hang || n.cause == Note::Cause::not_written) {
        field("observed: ", n.cause_text);
    } else {
        for (const auto& f : n.findings) {
            field("why:      ", f.said);
            // One side empty (an empty string, no lines): say so.
            const bool compared = !f.expected.empty() || !f.observed.empty();
            field("expected: ", compared && f.expected.empty() ? "(nothing)" : f.expected);
            field("observed: ", compared && f.observed.empty() ? "(nothing)" : f.observed);
            field("stderr:   ", f.runtime_line);
        }
        if (n.findings.empty()) field("observed: ", "it failed; --verbose shows the grader's text");
    }
    field("revisit:  ", n.step);
    return out.str();
}

void write_notes(std::ostream& out, const std::vector<LabResult>& results, bool colour) {
    const char* red = colour ? "\033[31m" : "";
    const char* reset = colour ? "\033[0m" : "";
    bool header = false;
    auto head = [&] {
        if (!header) out << "\nWhat to revisit:\n";
        header = true;
    };
    for (const auto& lab : results) {
        std::map<std::string, std::vector<std::string>> unwritten;  // cause -> claims
        std::map<std::string, std::string> unwritten_text;
        std::map<std::string, bool> start_shown;  // the runtime's line, shown once
        for (const auto& c : lab.claims) {
            if (c.passed) continue;
            head();
            std::string title = std::string("  ") + red + "FAIL" + reset + " " + lab.program +
                                "  " + c.suite + "." + c.name + " (" + std::to_string(c.points) +
                                " points)";
            if (c.skipped) {
                out << title << ": skipped\n";
                continue;
            }
            Note n = note_of(c);
            if (n.cause == Note::Cause::not_written) {
                unwritten[n.cause_key].push_back(c.suite + "." + c.name);
                unwritten_text[n.cause_key] = n.cause_text;
                continue;
            }
            if (n.cause == Note::Cause::did_not_start && start_shown[n.cause_key]) {
                out << title << ": did not start (see above)\n";
                continue;
            }
            if (n.cause == Note::Cause::did_not_start) start_shown[n.cause_key] = true;
            out << title << "\n" << note_text(n);
        }
        for (const auto& [key, claims] : unwritten) {
            head();
            out << "  " << red << "FAIL" << reset << " " << lab.program << "  "
                << printable(unwritten_text[key]) << "\n"
                << "      it blocks " << claims.size() << " claim"
                << (claims.size() == 1 ? "" : "s") << ":";
            for (const auto& name : claims) out << " " << name;
            out << "\n      revisit:  " << key << "\n";
        }
    }
}

}  // namespace tool

#include "feedback.hpp"

#include <cctype>
#include <cstdlib>
#include <map>
#include <ostream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "report.hpp"

namespace tool {

extern const char* const claims_tsv;  // claims_table.cpp, made from tests/graders/claims.tsv

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

// GoogleTest prints strings quoted, their lines joined by "\n"; the
// kernel's values read better bare, on one line ("link: lo up").
std::string unquote(std::string value) {
    value = trim(value);
    if (value.size() < 2 || value.front() != '"' || value.back() != '"') return value;
    value = value.substr(1, value.size() - 2);
    while (value.size() >= 2 && value.compare(value.size() - 2, 2, "\\n") == 0)
        value.resize(value.size() - 2);
    for (size_t at; (at = value.find("\\n")) != std::string::npos;) value.replace(at, 2, "; ");
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

// "step 2 is not written yet: not implemented yet: lab03, step 2" for the
// cause "lab03 step 2" under lab03's own name; under another lab's name
// (program "lab05_user", or none) the lab is said too: "lab03 step 2 is not
// written yet", since a later lab runs the earlier labs' steps and two causes
// can both be a "step 1".
std::string unwritten_line(const std::string& key, const std::string& text, Lang lang,
                           const std::string& program = "") {
    const std::string lab = key.substr(0, key.find(' '));
    const bool own = program.compare(0, lab.size(), lab) == 0 &&
                     (program.size() == lab.size() || program[lab.size()] == '_');
    std::string where = own ? "" : (lang == Lang::en ? lab + " " : "实验 " + lab.substr(3) + " ");
    return where + say(lang, "step ") + key.substr(key.rfind(' ') + 1) +
           say(lang, " is not written yet: ") + text;
}

std::string after(const std::string& text, const std::string& marker) {
    size_t at = text.find(marker);
    return at == std::string::npos ? "" : trim(text.substr(at + marker.size()));
}

}  // namespace

Lang lang_named(const std::string& name) {
    if (name == "en") return Lang::en;
    if (name == "zh-CN" || name == "zh_CN") return Lang::zh_CN;
    throw std::invalid_argument("unknown --lang '" + name + "' (en or zh-CN)");
}

Lang lang_of_environment() {
    for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
        const char* value = std::getenv(name);
        if (value && *value) return starts_with(value, "zh_CN") ? Lang::zh_CN : Lang::en;
    }
    return Lang::en;
}

std::string say(Lang lang, const std::string& english) {
    static const std::map<std::string, std::string> zh = {
        {"nslab scoreboard", "nslab 计分板"},
        {"tree: ", "代码树："},
        {"claims", "检查项"},
        {"points", "分"},
        {"total", "合计"},
        {"summary: ", "汇总："},
        {"note: ", "注："},
        {"What to revisit:", "需要回看的地方："},
        {"What to revisit (GoogleTest's text, --verbose):",
         "需要回看的地方（GoogleTest 原文，--verbose）："},
        {" points)", " 分）"},
        {" (", "（"},
        {": skipped", "：已跳过"},
        {": did not start (see above)", "：未能启动（见上文）"},
        {"skipped", "已跳过"},
        {"claim:    ", "检查项：  "},
        {"why:      ", "原因：    "},
        {"expected: ", "期望：    "},
        {"observed: ", "实际：    "},
        {"stderr:   ", "错误输出："},
        {"revisit:  ", "回看：    "},
        {"observed: the container did not start: ", "实际：    容器没有启动："},
        {"(nothing)", "（空）"},
        {"it failed; --verbose shows the grader's text", "未通过；--verbose 显示评分程序的原文"},
        {"step ", "第 "},
        {" is not written yet: ", " 步还没有写："},
        {"it blocks ", "它使 "},
        {" claim", " 个检查项无法通过"},
        {" claims", " 个检查项无法通过"},
        {":", "："},
        {", ", "，"},
    };
    if (lang == Lang::en) return english;
    auto it = zh.find(english);
    return it == zh.end() ? english : it->second;
}

// A step pointer in Chinese as tests/graders/claims.tsv says it (its
// two-column rows: the pointer as claim() gives it, then its Chinese), or "".
std::string step_row(const std::string& step) {
    static const std::map<std::string, std::string> rows = [] {
        std::map<std::string, std::string> table;
        for (const auto& line : lines_of(claims_tsv)) {
            size_t tab = line.find('\t');
            if (line.empty() || line[0] == '#' || tab == std::string::npos ||
                line.find('\t', tab + 1) != std::string::npos)
                continue;
            table[line.substr(0, tab)] = line.substr(tab + 1);
        }
        return table;
    }();
    auto it = rows.find(step);
    return it == rows.end() ? "" : it->second;
}

std::string step_in(Lang lang, const std::string& step) {
    if (lang == Lang::zh_CN)
        if (std::string row = step_row(step); !row.empty()) return row;
    static const std::regex lab(R"(^lab(\d+)(.*)$)");
    static const std::regex steps(R"(^ steps? (\d+)(?:( and |-)(\d+))?)");
    static const std::regex aside(R"( ?\((.*)\)$)");
    std::smatch m;
    if (lang == Lang::en || !std::regex_match(step, m, lab)) return step;
    std::string out = "实验 " + m.str(1), rest = m.str(2);
    if (std::regex_search(rest, m, steps)) {
        out += " 第 " + m.str(1);
        if (m[2] == " and ") out += "、" + m.str(3);
        if (m[2] == "-") out += "–" + m.str(3);
        out += " 步";
        rest = m.suffix();
    } else if (starts_with(rest, " handout: ")) {
        return out + " 讲义：" + rest.substr(10);
    }
    return out + std::regex_replace(rest, aside, "（$1）");
}

std::string claim_sentence(Lang lang, const std::string& claim) {
    // Suite.Name -> its English and Chinese sentences.
    static const std::map<std::string, std::pair<std::string, std::string>> table = [] {
        std::map<std::string, std::pair<std::string, std::string>> rows;
        for (const auto& line : lines_of(claims_tsv)) {
            if (line.empty() || line[0] == '#') continue;
            size_t tab1 = line.find('\t'), tab2 = line.find('\t', tab1 + 1);
            if (tab2 == std::string::npos) continue;
            rows[line.substr(0, tab1)] = {line.substr(tab1 + 1, tab2 - tab1 - 1),
                                          line.substr(tab2 + 1)};
        }
        return rows;
    }();
    auto it = table.find(claim);
    if (it == table.end()) return "";
    return lang == Lang::zh_CN ? it->second.second : it->second.first;
}

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

Note note_of(const Claim& claim, Lang lang) {
    Note n;
    n.sentence = claim_sentence(lang, claim.suite + "." + claim.name);
    if (n.sentence.empty())
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
            n.cause_text = m.str(0);  // write_notes says "step K is not written yet: "
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

std::string note_text(const Note& n, Lang lang) {
    std::ostringstream out;
    auto field = [&](const char* label, const std::string& text) {
        if (!text.empty()) out << "      " << say(lang, label) << printable(text) << "\n";
    };
    field("claim:    ", n.sentence);
    if (n.cause == Note::Cause::did_not_start) {
        field("observed: the container did not start: ", n.cause_text);
        field("stderr:   ", n.findings.front().runtime_line);
    } else if (n.cause == Note::Cause::hang || n.cause == Note::Cause::not_written) {
        field("observed: ", n.cause == Note::Cause::hang
                                ? n.cause_text
                                : unwritten_line(n.cause_key, n.cause_text, lang));
    } else {
        for (const auto& f : n.findings) {
            field("why:      ", f.said);
            // One side empty (an empty string, no lines): say so.
            const bool compared = !f.expected.empty() || !f.observed.empty();
            field("expected: ",
                  compared && f.expected.empty() ? say(lang, "(nothing)") : f.expected);
            field("observed: ",
                  compared && f.observed.empty() ? say(lang, "(nothing)") : f.observed);
            field("stderr:   ", f.runtime_line);
        }
        if (n.findings.empty())
            field("observed: ", say(lang, "it failed; --verbose shows the grader's text"));
    }
    field("revisit:  ", step_in(lang, n.step));
    return out.str();
}

void write_notes(std::ostream& out, const std::vector<LabResult>& results, bool colour, Lang lang) {
    const char* red = colour ? "\033[31m" : "";
    const char* reset = colour ? "\033[0m" : "";
    bool header = false;
    auto head = [&] {
        if (!header) out << "\n" << say(lang, "What to revisit:") << "\n";
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
                                "  " + c.suite + "." + c.name + say(lang, " (") +
                                std::to_string(c.points) + say(lang, " points)");
            if (c.skipped) {
                out << title << say(lang, ": skipped") << "\n";
                continue;
            }
            Note n = note_of(c, lang);
            if (n.cause == Note::Cause::not_written) {
                unwritten[n.cause_key].push_back(c.suite + "." + c.name);
                unwritten_text[n.cause_key] = n.cause_text;
                continue;
            }
            if (n.cause == Note::Cause::did_not_start && start_shown[n.cause_key]) {
                out << title << say(lang, ": did not start (see above)") << "\n";
                continue;
            }
            if (n.cause == Note::Cause::did_not_start) start_shown[n.cause_key] = true;
            out << title << "\n" << note_text(n, lang);
        }
        for (const auto& [key, claims] : unwritten) {
            head();
            out << "  " << red << "FAIL" << reset << " " << lab.program << "  "
                << printable(unwritten_line(key, unwritten_text[key], lang, lab.program)) << "\n"
                << "      " << say(lang, "it blocks ") << claims.size()
                << say(lang, claims.size() == 1 ? " claim" : " claims") << say(lang, ":");
            for (size_t i = 0; i < claims.size(); ++i)  // no space after "："
                out << (i || lang == Lang::en ? " " : "") << claims[i];
            out << "\n      " << say(lang, "revisit:  ") << step_in(lang, key) << "\n";
        }
    }
}

}  // namespace tool

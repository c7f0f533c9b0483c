#include "results.hpp"

#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nslab/cli.hpp"
#include "nslab/command.hpp"

namespace tool {

int LabResult::points() const {
    int sum = 0;
    for (const auto& c : claims) sum += c.passed ? c.points : 0;
    return sum;
}
int LabResult::max_points() const {
    int sum = 0;
    for (const auto& c : claims) sum += c.points;
    return sum;
}
int LabResult::passed() const {
    int n = 0;
    for (const auto& c : claims) n += c.passed;
    return n;
}

std::string own_suite(int lab) {
    const nslab::Lab* found = nslab::find_lab(lab);
    if (!found) throw std::out_of_range("no lab " + std::to_string(lab));
    std::string suite(found->name);  // GoogleTest suites are the name, capitalised: "Pid"
    suite.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(suite.front())));
    return suite;
}

std::vector<Claim> parse_gtest_json(const std::string& text, const std::string& lab) {
    std::vector<Claim> claims;
    auto json = nlohmann::json::parse(text);
    for (const auto& suite : json.value("testsuites", nlohmann::json::array())) {
        for (const auto& test : suite.value("testsuite", nlohmann::json::array())) {
            Claim c;
            c.lab = lab;
            c.suite = suite.value("name", "");
            c.name = test.value("name", "");
            c.points = std::atoi(test.value("points", "0").c_str());
            c.step = test.value("step", "");
            c.sentence = test.value("sentence", "");
            c.skipped = test.value("result", "") == "SKIPPED";
            std::string time = test.value("time", "0s");
            c.seconds = std::atof(time.c_str());
            for (const auto& f : test.value("failures", nlohmann::json::array()))
                c.feedback += f.value("failure", "") + "\n";
            c.passed = !c.skipped && c.feedback.empty() && test.value("status", "") == "RUN";
            claims.push_back(std::move(c));
        }
    }
    return claims;
}

LabResult run_grader(const std::string& bin_dir, int lab, const std::string& filter) {
    return run_grader(bin_dir, lab, filter, [](const std::vector<std::string>& argv) {
        RunOutcome outcome;
        try {
            // The scoreboard is the output; the grader's own chatter goes to /dev/null.
            outcome.status =
                nslab::command::run({.argv = argv, .out = nslab::command::Stream::null()}).status;
        } catch (const nslab::command::NotStarted& e) {
            outcome.error = e.what();
        }
        return outcome;
    });
}

LabResult run_grader(const std::string& bin_dir, int lab, const std::string& filter,
                     const GraderRunner& runner) {
    LabResult result;
    result.lab = lab;
    result.program = nslab::lab_program_name(lab);
    char number[8];
    std::snprintf(number, sizeof number, "%02d", lab);
    std::string grader = bin_dir + "/grade_lab" + number;
    if (!std::filesystem::exists(grader)) {
        result.error = "no grader for this lab in " + bin_dir;
        return result;
    }
    char report_template[] = "/tmp/nslab-grade-XXXXXX";
    int fd = ::mkstemp(report_template);
    if (fd < 0) {
        result.error = "mkstemp failed";
        return result;
    }
    ::close(fd);
    std::string report = report_template;
    std::vector<std::string> argv{grader, "--gtest_output=json:" + report, "--gtest_brief=1"};
    if (!filter.empty()) argv.push_back("--gtest_filter=" + filter);
    RunOutcome outcome = runner(argv);
    std::ifstream in(report);
    std::stringstream text;
    text << in.rdbuf();
    std::filesystem::remove(report);
    if (!outcome.error.empty()) {
        result.error = outcome.error;
        return result;
    }
    try {
        result.claims = parse_gtest_json(text.str(), result.program);
    } catch (const std::exception& e) {
        result.error =
            "the grader crashed or wrote no report (status " + std::to_string(outcome.status) + ")";
    }
    if (result.claims.empty() && result.error.empty()) result.error = "the grader ran no claim";
    return result;
}

}  // namespace tool

#include "claims_source.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "nslab/cli.hpp"
#include "nslab/command.hpp"
#include "results.hpp"

namespace tool {

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace {

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// stdout of a program (no shell), or "" if it could not run.
std::string output_of(const std::vector<std::string>& argv) {
    try {
        return nslab::command::output_of(argv);
    } catch (const std::system_error&) {  // NotStarted, or no fork
        return "";
    }
}

// "Suite.Name" of every test a GoogleTest program lists.
std::set<std::string> listed_tests(const std::string& program) {
    std::set<std::string> names;
    std::istringstream in(output_of({program, "--gtest_list_tests"}));
    std::string suite;
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        if (line[0] != ' ') {
            suite = line.substr(0, line.find('.'));
        } else {
            std::istringstream words(line);
            std::string name;
            words >> name;
            names.insert(suite + "." + name);
        }
    }
    return names;
}

}  // namespace

std::vector<SourceClaim> claims_in_source(const std::string& text) {
    static const std::regex test(R"(\bTEST(?:_F)?\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)\s*\{)");
    static const std::regex first_claim(R"(^(?:\s|//[^\n]*\n)*claim\s*\(\s*(\d+)\s*,)");
    std::vector<SourceClaim> claims;
    for (std::sregex_iterator it(text.begin(), text.end(), test), end; it != end; ++it) {
        SourceClaim c;
        c.suite = (*it)[1];
        c.name = (*it)[2];
        auto at = static_cast<size_t>(it->position(0));
        c.line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
        std::smatch points;
        std::string body = text.substr(at + it->length(0), 400);
        if (std::regex_search(body, points, first_claim)) c.points = std::stoi(points[1]);
        claims.push_back(c);
    }
    return claims;
}

std::set<std::string> claim_names_in_dir(const std::string& dir) {
    std::set<std::string> names;
    if (dir.empty() || !fs::is_directory(dir)) return names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::string file = entry.path().filename();
        if (file.size() < 11 || file.substr(file.size() - 11) != "_claims.cpp") continue;
        for (const auto& c : claims_in_source(slurp(entry.path()))) names.insert(c.full());
    }
    return names;
}

std::map<std::string, int> handout_table(const std::string& markdown, bool& found) {
    static const std::regex row(R"(^\|\s*`?([A-Za-z]\w*\.\w+)`?\s*\|\s*(\d+)\s*\|)");
    std::map<std::string, int> table;
    std::istringstream in(markdown);
    found = false;
    bool inside = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("#", 0) == 0) {
            inside = line.find("What the grader checks") != std::string::npos;
            found |= inside;
            continue;
        }
        std::smatch m;
        if (inside && std::regex_search(line, m, row)) table[m[1]] = std::stoi(m[2]);
    }
    return table;
}

int check_handouts_command(const std::vector<std::string>& args) {
    po::options_description options("nslab check-handouts");
    options.add_options()("source", po::value<std::string>()->default_value(NSLAB_SOURCE_DIR),
                          "the nslab source tree")(
        "bin", po::value<std::string>(), "a build's bin directory: compare with its graders too");
    po::variables_map vm;
    auto style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(args).options(options).style(style).run(), vm);
    po::notify(vm);
    fs::path source = vm["source"].as<std::string>();

    int problems = 0, checked = 0;
    auto problem = [&](const std::string& where, const std::string& what) {
        std::cout << where << ": " << what << "\n";
        ++problems;
    };
    for (const auto& table_row : nslab::lab_table) {
        const int lab = table_row.number;
        std::string program = nslab::lab_program_name(table_row);
        std::string layer(table_row.name);
        fs::path claims_file = source / "tests/graders" / (layer + "_claims.cpp");
        fs::path handout = source / "labs" / program / "README.md";
        if (!fs::exists(claims_file)) continue;  // no grader yet
        std::string where = handout.lexically_relative(source).string();
        std::map<std::string, int> code;
        for (const auto& c : claims_in_source(slurp(claims_file))) {
            if (c.points < 0)
                problem(
                    claims_file.lexically_relative(source).string() + ":" + std::to_string(c.line),
                    c.full() + " does not open with claim(points, \"step\")");
            if (c.suite == own_suite(lab)) code[c.full()] = c.points;
        }
        if (!fs::exists(handout)) {
            // A lab being written: its engineer adds the handout with the claims.
            std::cout << where << ": no handout yet (" << code.size() << " claims unchecked)\n";
            continue;
        }
        bool found = false;
        auto table = handout_table(slurp(handout), found);
        ++checked;
        if (!found) problem(where, "no \"What the grader checks\" section");
        for (const auto& [name, points] : code) {
            if (!table.count(name))
                problem(where, "the table lacks " + name + " (" + std::to_string(points) +
                                   " points in the grader)");
            else if (table[name] != points)
                problem(where, name + ": the table says " + std::to_string(table[name]) +
                                   " points, the grader " + std::to_string(points));
        }
        for (const auto& [name, points] : table)
            if (!code.count(name)) problem(where, "the table lists " + name + ", no grader has it");
        if (vm.count("bin")) {
            char grader[16];
            std::snprintf(grader, sizeof grader, "grade_lab%02d", lab);
            fs::path program_path = fs::path(vm["bin"].as<std::string>()) / grader;
            if (!fs::exists(program_path)) continue;
            for (const auto& name : listed_tests(program_path))
                if (name.rfind(own_suite(lab) + ".", 0) == 0 && !code.count(name))
                    problem(grader, name + " runs, but the source parse did not find it");
        }
    }
    std::cout << "handouts: " << checked << " checked, " << problems << " problems\n";
    return problems == 0 ? 0 : 1;
}

}  // namespace tool

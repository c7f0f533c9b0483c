#include "grade_command.hpp"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "claims_source.hpp"
#include "cleanup.hpp"
#include "nslab/labs.hpp"
#include "report.hpp"
#include "results.hpp"
#include "submissions.hpp"

namespace tool {

namespace po = boost::program_options;

namespace {

std::ostream& output(const po::variables_map& vm, std::ofstream& file) {
    if (!vm.count("output")) return std::cout;
    file.open(vm["output"].as<std::string>());
    if (!file) throw std::runtime_error("cannot write " + vm["output"].as<std::string>());
    return file;
}

// The class table on stdout or --output (text, csv or json), and --csv FILE.
void write_batch(const po::variables_map& vm, const Batch& batch) {
    std::string format = vm["format"].as<std::string>();
    std::ofstream file;
    write_summary(output(vm, file), format == "csv" || format == "json" ? format : "text", batch);
    if (vm.count("csv")) {
        std::ofstream csv(vm["csv"].as<std::string>());
        write_summary(csv, "csv", batch);
    }
}

int grade_submissions_command(const po::variables_map& vm, const std::vector<int>& labs,
                              const std::set<std::string>& hidden) {
    BatchOptions o;
    o.source_dir = vm["source"].as<std::string>();
    o.build_root =
        vm.count("build-root") ? vm["build-root"].as<std::string>() : o.source_dir + "/build";
    o.submissions = vm["submissions"].as<std::string>();
    o.extra_tests = vm.count("extra-tests") ? vm["extra-tests"].as<std::string>() : "";
    o.results_dir = vm.count("results") ? vm["results"].as<std::string>()
                                        : o.build_root + "/submissions-results";
    o.labs = labs;
    o.filter = vm["filter"].as<std::string>();
    o.time_limit = vm["time-limit"].as<int>();
    o.build_time_limit = vm["build-time-limit"].as<int>();
    o.limits.pids = vm["pids-max"].as<long>();
    o.limits.memory = vm["memory-max"].as<long>();
    o.hidden_claims = hidden;
    if (vm.count("shard")) o.shard = parse_shard(vm["shard"].as<std::string>());
    o.show_progress = ::isatty(2);
    Batch batch = grade_submissions(o, std::cerr);
    write_batch(vm, batch);
    std::cerr << "per-student reports and logs: " << o.results_dir << "\n";
    return 0;
}

// A student's `--lab N`: a build lab runs the layers of the labs before it,
// so their claims run first, layer by layer, and grading stops at the first
// layer whose claims fail (`--all` goes on). Returns the claims that ran.
// The build labs whose layers lab `number` builds on (the lab table's order),
// its own left out: lab 03 builds on 01 and 02. None for an inspect or join lab.
std::vector<int> labs_built_on(int number) {
    std::vector<int> earlier;
    const nslab::Lab* self = nslab::find_lab(number);
    if (!self || self->kind != nslab::LabKind::build) return earlier;
    for (const nslab::Lab& other : nslab::lab_table)
        if (&other != self && other.kind == nslab::LabKind::build &&
            self->layers.contains(*other.layer))
            earlier.push_back(other.number);
    return earlier;
}

LabResult grade_in_order(const std::string& bin, int lab, std::vector<std::string>& notes) {
    LabResult result;
    std::string earlier;  // "Pid.*:Mount.*"
    for (int layer : labs_built_on(lab)) {
        LabResult part = run_grader(bin, lab, own_suite(layer) + ".*");
        if (!part.error.empty()) return part;
        result.lab = part.lab;
        result.program = part.program;
        result.claims.insert(result.claims.end(), part.claims.begin(), part.claims.end());
        earlier += (earlier.empty() ? "" : ":") + own_suite(layer) + ".*";
        if (part.passed() != static_cast<int>(part.claims.size())) {
            char text[256];
            std::snprintf(text, sizeof text,
                          "%s: lab %02d's claims (%s) fail first, so lab %02d's own claims did not "
                          "run: finish lab %02d (its notes above), or grade with --all",
                          part.program.c_str(), layer, own_suite(layer).c_str(), lab, layer);
            notes.push_back(text);
            return result;
        }
    }
    LabResult rest = run_grader(bin, lab, earlier.empty() ? "" : "-" + earlier);
    if (!rest.error.empty()) return rest;
    rest.claims.insert(rest.claims.begin(), result.claims.begin(), result.claims.end());
    return rest;
}

}  // namespace

int grade_command(const std::vector<std::string>& args) {
    po::options_description options("nslab grade");
    options.add_options()("bin", po::value<std::string>(), "build's bin directory")(
        "from", po::value<std::string>(), "convert a saved --format json report instead")(
        "submissions", po::value<std::string>(), "grade every student directory in DIR")(
        "shard", po::value<std::string>(), "--submissions: grade only the I-th of N shares (I/N)")(
        "merge", po::value<std::vector<std::string>>()->multitoken(),
        "join the --format json results of every shard into one class table")(
        "lab", po::value<std::vector<int>>(), "lab number (repeatable; default: every lab)")(
        "format", po::value<std::string>()->default_value("text"),
        "text, json, junit, gradescope, classroom (--submissions, --merge: text, csv or json)")(
        "output", po::value<std::string>(), "write the report here instead of stdout")(
        "filter", po::value<std::string>()->default_value(""), "GoogleTest filter")(
        "expect", po::value<std::string>()->default_value("pass"),
        "pass: exit 0 only if every claim passed; own-fail: only if each lab's own claims all "
        "failed (the skeleton); fail: only if some claim failed (a mutant)")(
        "tree", po::value<std::string>()->default_value(""), "tree name for the report")(
        "all", "--lab N: grade every claim, even when an earlier lab's fail first")(
        "verbose", "text: each failed claim's GoogleTest text, whole, instead of the notes")(
        "lang", po::value<std::string>(),
        "en or zh-CN: the scoreboard and notes (default: from LC_ALL, LC_MESSAGES, LANG)")(
        "extra-tests", po::value<std::string>(),
        "instructor-only *_claims.cpp: hidden until published in gradescope reports")(
        "source", po::value<std::string>()->default_value(NSLAB_SOURCE_DIR),
        "the instructor's nslab tree (--submissions)")(
        "build-root", po::value<std::string>(),
        "where --submissions builds (default SOURCE/build)")(
        "results", po::value<std::string>(),
        "per-student reports (default BUILD_ROOT/submissions-results)")(
        "csv", po::value<std::string>(), "--submissions: also write the table as CSV here")(
        "time-limit", po::value<int>()->default_value(600), "seconds to grade one submission")(
        "build-time-limit", po::value<int>()->default_value(900), "seconds to build one")(
        "pids-max", po::value<long>()->default_value(1024), "pids limit of a submission's cgroup")(
        "memory-max", po::value<long>()->default_value(4L << 30),
        "memory limit (bytes) of a submission's cgroup");
    po::variables_map vm;
    auto style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(args).options(options).style(style).run(), vm);
    po::notify(vm);
    if (vm.count("bin") + vm.count("from") + vm.count("submissions") + vm.count("merge") != 1)
        throw po::error(
            "give one of --bin DIR, --from REPORT.json, --submissions DIR or --merge RESULTS...");
    Lang lang = lang_of_environment();
    if (vm.count("lang")) try {
            lang = lang_named(vm["lang"].as<std::string>());
        } catch (const std::invalid_argument& e) {
            throw po::error(e.what());
        }
    if (vm.count("shard") && !vm.count("submissions"))
        throw po::error("--shard goes with --submissions DIR");
    if (vm.count("merge")) {
        write_batch(vm, merge_shards(vm["merge"].as<std::vector<std::string>>()));
        return 0;
    }

    std::vector<int> labs = vm.count("lab") ? vm["lab"].as<std::vector<int>>() : std::vector<int>{};
    const auto& table = nslab::lab_table;
    for (int lab : labs)
        if (!nslab::find_lab(lab))
            throw po::error("--lab takes " + std::to_string(std::begin(table)->number) + " to " +
                            std::to_string(std::prev(std::end(table))->number) + ", not " +
                            std::to_string(lab));
    if (labs.empty())
        for (const auto& lab : table) labs.push_back(lab.number);
    std::set<std::string> hidden;
    if (vm.count("extra-tests")) hidden = claim_names_in_dir(vm["extra-tests"].as<std::string>());
    if (vm.count("submissions")) return grade_submissions_command(vm, labs, hidden);

    ReportInfo info;
    std::vector<LabResult> results;
    std::ostringstream unused;  // refuse an unknown --format before grading, not after
    write_report(unused, vm["format"].as<std::string>(), info, results);
    if (vm.count("from")) {
        std::ifstream in(vm["from"].as<std::string>());
        if (!in) throw std::runtime_error("cannot read " + vm["from"].as<std::string>());
        std::stringstream text;
        text << in.rdbuf();
        results = read_json_report(text.str(), info);
    } else {
        auto start = std::chrono::steady_clock::now();
        // A student's --lab N stops at the first earlier lab that fails;
        // --filter, --all and the test suite's --expect get every claim.
        const bool in_order = vm.count("lab") && !vm.count("all") &&
                              vm["filter"].as<std::string>().empty() &&
                              vm["expect"].as<std::string>() == "pass";
        for (int lab : labs) {
            auto result =
                in_order && !labs_built_on(lab).empty()
                    ? grade_in_order(vm["bin"].as<std::string>(), lab, info.notes)
                    : run_grader(vm["bin"].as<std::string>(), lab, vm["filter"].as<std::string>());
            if (!result.error.empty() && result.error.rfind("no grader", 0) == 0 &&
                !vm.count("lab"))
                continue;  // a lab not written yet
            results.push_back(std::move(result));
        }
        info.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        // Leave the host as grading found it: the empty cgroup parents its
        // containers and sandbox made, unless a runtime still uses one.
        remove_empty_cgroup_parents();
        info.tree = vm["tree"].as<std::string>();
    }
    info.hidden_claims.insert(hidden.begin(), hidden.end());
    if (!vm["tree"].as<std::string>().empty()) info.tree = vm["tree"].as<std::string>();

    std::ofstream file;
    std::ostream& out = output(vm, file);
    info.colour = !vm.count("output") && ::isatty(1);
    info.verbose = vm.count("verbose") > 0;
    info.lang = lang;
    write_report(out, vm["format"].as<std::string>(), info, results);
    if (!vm.count("from"))
        std::cerr << "graded in " << static_cast<int>(info.seconds * 10 + 0.5) / 10.0 << " s\n";
    return meets_expectation(results, vm["expect"].as<std::string>(), std::cerr) ? 0 : 1;
}

}  // namespace tool

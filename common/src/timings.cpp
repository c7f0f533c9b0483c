#include "nslab/timings.hpp"

#include <cstdio>
#include <cstdlib>

namespace nslab {

namespace {

// Set during static initialisation, before main(): what the runtime spends
// before it reaches run_container (dynamic linking is earlier still, and not
// counted).
const auto program_start = std::chrono::steady_clock::now();

double ms_between(std::chrono::steady_clock::time_point a,
                  std::chrono::steady_clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

Timings::Timings(bool enabled) : Timings(enabled, Clock::now()) {}

Timings::Timings(bool enabled, Clock::time_point start)
    : enabled_(enabled), start_(start), last_(start) {}

Timings Timings::since_program_start(bool enabled) {
    return Timings(enabled, program_start);
}

void Timings::mark(std::string step, bool shown) {
    if (!enabled_ || !shown) return;
    auto now = Clock::now();
    steps_.emplace_back(std::move(step), ms_between(last_, now));
    last_ = now;
}

void Timings::mark_nested(std::string_view prefix, std::string_view encoded, std::string rest) {
    if (!enabled_) return;
    auto now = Clock::now();
    double covered = 0;
    while (!encoded.empty()) {
        size_t end = encoded.find('\n');
        std::string line(encoded.substr(0, end));
        encoded.remove_prefix(end == std::string_view::npos ? encoded.size() : end + 1);
        char* name = nullptr;
        double ms = std::strtod(line.c_str(), &name);
        if (name == line.c_str() || *name != ' ') continue;  // not a step line
        steps_.emplace_back("  " + std::string(prefix) + ": " + (name + 1), ms);
        covered += ms;
    }
    steps_.emplace_back(std::move(rest), ms_between(last_, now) - covered);
    last_ = now;
}

void Timings::total(std::string what) {
    if (!enabled_) return;
    last_ = Clock::now();
    steps_.emplace_back("= " + std::move(what), ms_between(start_, last_));
}

std::string Timings::encoded() const {
    std::string text;
    char ms[32];
    for (const auto& [step, value] : steps_) {
        std::snprintf(ms, sizeof ms, "%.3f ", value);
        text += ms + step + "\n";
    }
    return text;
}

void Timings::print(const std::string& program) const {
    if (!enabled_) return;
    for (const auto& [step, ms] : steps_)
        std::fprintf(stderr, "%s: timing: %-40s %9.3f ms\n", program.c_str(), step.c_str(), ms);
}

}  // namespace nslab

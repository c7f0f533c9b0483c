#include "nslab/timings.hpp"

#include <cstdio>

namespace nslab {

void Timings::mark(std::string step) {
    if (!enabled_) return;
    auto now = Clock::now();
    steps_.emplace_back(std::move(step),
                        std::chrono::duration<double, std::milli>(now - last_).count());
    last_ = now;
}

void Timings::total(std::string what) {
    if (!enabled_) return;
    last_ = Clock::now();
    steps_.emplace_back("= " + std::move(what),
                        std::chrono::duration<double, std::milli>(last_ - start_).count());
}

void Timings::print(const std::string& program) const {
    if (!enabled_) return;
    for (const auto& [step, ms] : steps_)
        std::fprintf(stderr, "%s: timing: %-28s %9.3f ms\n", program.c_str(), step.c_str(), ms);
}

}  // namespace nslab

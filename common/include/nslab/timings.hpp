// --timings: how long each set-up step took, printed to stderr.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace nslab {

class Timings {
  public:
    explicit Timings(bool enabled) : enabled_(enabled), start_(Clock::now()), last_(start_) {}
    // Closes the step that ran since the previous mark.
    void mark(std::string step);
    // "total until exec" / "total until exit", since construction.
    void total(std::string what);
    void print(const std::string& program) const;
    bool enabled() const { return enabled_; }

  private:
    using Clock = std::chrono::steady_clock;
    bool enabled_;
    Clock::time_point start_, last_;
    std::vector<std::pair<std::string, double>> steps_;  // name, milliseconds
};

}  // namespace nslab

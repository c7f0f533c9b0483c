// --timings: how long each set-up step took, printed to stderr.
//
// The runtime marks its own steps; the container's first process marks the
// steps it takes for itself (mounts, hostname, lo...) with a Timings of its
// own and sends them with its "ready" report, as durations: its clocks may
// be in a time namespace with an offset, so only differences travel.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nslab {

class Timings {
  public:
    // Times from now.
    explicit Timings(bool enabled);
    // Times from when the program was loaded (before main), so the first
    // mark covers the runtime's own start-up.
    static Timings since_program_start(bool enabled);

    // Closes the step that ran since the previous mark. A step that is not
    // `shown` (its layer is off in this lab) leaves its few microseconds to
    // the next one.
    void mark(std::string step, bool shown = true);
    // Closes a step that another process spent in steps of its own, given as
    // encoded() text: each becomes a line "  <prefix>: <step>", and whatever
    // of the window they do not cover (waking up, the pipe) becomes `rest`.
    void mark_nested(std::string_view prefix, std::string_view encoded, std::string rest);
    // "= total until exec" and the like, since the start.
    void total(std::string what);
    // The steps as "milliseconds name" lines, for the sync pipe.
    std::string encoded() const;
    void print(const std::string& program) const;
    bool enabled() const { return enabled_; }

  private:
    using Clock = std::chrono::steady_clock;
    Timings(bool enabled, Clock::time_point start);
    bool enabled_;
    Clock::time_point start_, last_;
    std::vector<std::pair<std::string, double>> steps_;  // name, milliseconds
};

}  // namespace nslab

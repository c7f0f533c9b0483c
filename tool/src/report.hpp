// The scoreboard and the machine-readable reports of a grading run.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "results.hpp"

namespace tool {

// format: text (the scoreboard) or json (nslab's own schema, README).
void write_report(std::ostream& out, const std::string& format, const std::string& tree,
                  const std::vector<LabResult>& results, bool colour);

// Checks a run against what was expected of it and says why not on `why`.
bool meets_expectation(const std::vector<LabResult>& results, const std::string& expect,
                       std::ostream& why);

}  // namespace tool

// `nslab-tool grade`: grade one build tree, convert a saved report, or
// grade a directory of submissions.
#pragma once

#include <string>
#include <vector>

namespace tool {

int grade_command(const std::vector<std::string>& args);

}  // namespace tool

// Lab 12's command line (create, start, state, kill, delete): main() of a
// runtime lab (labs.hpp, LabKind::runtime). Returns the exit status: 0, 1
// when the command failed (one line on stderr, and in --log), 2 for a bad
// command line, or what create's set-up returned (125 and the like).
#pragma once

namespace nslab {

int oci_main(int argc, const char* const* argv);

}  // namespace nslab

// nslab doctor: can this machine run the labs? One line per check.
#pragma once

#include <string>
#include <vector>

namespace tool {

// Paths come from the environment so a test can simulate a broken machine:
// NSLAB_DOCTOR_PROC (default /proc), NSLAB_DOCTOR_SYS (/sys),
// NSLAB_DOCTOR_BOOT (/boot), NSLAB_DOCTOR_ROOTFS (the build's rootfs).
// Exit status: 0 every lab can work, 1 some check FAILed.
int doctor(const std::vector<std::string>& args);

}  // namespace tool

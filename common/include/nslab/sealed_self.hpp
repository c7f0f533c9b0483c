// The runtime never runs inside a container from its file on the host.
//
// CVE-2019-5736: a process of the runtime that enters a container (lab 09's
// join, --init's PID 1, the child before its exec) shows the container its
// binary as /proc/PID/exe; a command whose interpreter is "#!/proc/self/exe"
// even runs it there. The container's root then opens that link, keeps the
// fd and, once the runtime has exited, rewrites the host's binary through
// it. As runc does since its fix, every lab executable first re-executes
// itself from a sealed memfd copy: /proc/self/exe is then that copy, which
// nobody may write (F_SEAL_WRITE) and which is gone with the last process
// that runs it.
#pragma once

namespace nslab {

// Returns at once when this process already runs from a sealed copy; else
// copies /proc/self/exe into a memfd named `name`, seals it and execs it
// with the same argv and environment. Throws std::system_error when that
// cannot be done.
void run_from_sealed_copy(const char* name, char** argv);

// The seals a copy must hold (F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE).
int sealed_copy_seals();

}  // namespace nslab

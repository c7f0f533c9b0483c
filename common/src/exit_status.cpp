#include <sys/wait.h>

#include <cerrno>

#include "nslab/container.hpp"
#include "nslab/errors.hpp"

namespace nslab {

int exit_status_of(int wait_status) {
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return exit_status::runtime_failed;
}

int exit_status_for_exec_error(int error) {
    if (error == ENOENT || error == ENOTDIR) return exit_status::not_found;
    return exit_status::not_executable;
}

}  // namespace nslab

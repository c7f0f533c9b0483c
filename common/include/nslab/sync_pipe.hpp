// Parent and child take turns over a pair of pipes, never sleep(3).
//
// The child blocks until the parent has done its part (id maps, cgroup
// attach, veth); then sets itself up and says "ready"; the parent writes the
// pid file and lets it exec. A child failure travels back as errno plus a
// message, and the parent reports it: the child never prints for itself.
// Both pipes are O_CLOEXEC, so a successful execve(2) closes the child's end
// and the parent reads end-of-file: that is how it knows the exec worked
// (the trick of Kerrisk's userns_child_exec.c and of every runtime).
#pragma once

#include <string>
#include <string_view>

#include "nslab/fd.hpp"

namespace nslab {

class SyncPipe {
  public:
    struct Report {
        enum class Kind { ready, error, exec_failed, exec_done } kind = Kind::exec_done;
        int error = 0;     // errno, for Kind::error
        std::string what;  // the failed step with its reason; for ready, Timings::encoded()
    };

    SyncPipe();

    // After clone/fork each side drops the ends that belong to the other.
    void become_parent();
    void become_child();

    // Parent side.
    void let_child_go();  // the child's turn
    Report wait_child();  // ready, an error, or exec_done (end-of-file)

    // Child side. wait_parent() returns when it is the child's turn; if the
    // parent died instead, the child exits at once (nothing to report to).
    void wait_parent();
    void report_ready(std::string_view timings = {});  // the child's own --timings steps
    void report_error(int error, std::string_view what) noexcept;
    void report_exec_failed(int error, std::string_view what) noexcept;  // 126/127, not 125
    void close_child_side();  // the init's own copy, once the command has its own

  private:
    bool send(Report::Kind kind, int error, std::string_view what) noexcept;

    Fd to_child_read_, to_child_write_;
    Fd to_parent_read_, to_parent_write_;
};

}  // namespace nslab

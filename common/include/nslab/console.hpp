// A container's terminal, as an engine asks for it (the runtime spec's
// process.terminal; runc's docs/terminals.md, "detached new terminal"): a
// new pseudoterminal of the container's own devpts instance, its replica
// the command's controlling terminal and stdio, its master handed over a
// unix socket to whoever holds the other end (conmon) with SCM_RIGHTS
// (unix(7)). Lab 12's `create --console-socket` uses it; a joined process
// (`exec --tty`) takes the same two calls: connect in the runtime, attach
// in the process, once it sees the container's /dev/pts.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "nslab/fd.hpp"

namespace nslab::console {

// The runtime's side, while the host's paths are reachable: a connected
// SOCK_STREAM socket to `path`. Throws std::system_error naming it.
Fd connect(const std::string& path);

// The process's side, in the container's mount namespace (after
// pivot_root): a pty from /dev/pts/ptmx, sized rows x cols when given;
// its master sent over `socket` (the pty's name as the message's bytes),
// then closed here; this process a new session whose controlling terminal
// is the replica, and the replica its fds 0, 1 and 2. Throws std::system_error.
void attach_new_pty(int socket, const std::optional<std::pair<unsigned, unsigned>>& size);

// The runtime's side again, before it exits: waits (at most `limit`) until
// the engine has read what was sent over `socket` (SIOCOUTQ, unix(7), is
// 0). conmon takes the master only while the runtime runs: once `create`
// has exited it gives up on a terminal it has not read, and kills the
// container. False when the limit passed first.
bool wait_until_read(int socket, std::chrono::milliseconds limit);

}  // namespace nslab::console

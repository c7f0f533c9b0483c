#include "nslab/console.hpp"

#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "nslab/sys.hpp"

namespace nslab::console {

namespace {

// One message: the pty's name as its bytes, the master as its one fd.
void send_fd(int socket, int fd, const std::string& name) {
    iovec bytes{const_cast<char*>(name.data()), name.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};
    message.msg_iov = &bytes;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* rights = CMSG_FIRSTHDR(&message);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(rights), &fd, sizeof(int));
    sys::check(::sendmsg(socket, &message, MSG_NOSIGNAL), "sendmsg(console socket, pty master)");
}

}  // namespace

Fd connect(const std::string& path) {
    const std::string what = "--console-socket " + path;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path)
        throw std::runtime_error(what + ": longer than a unix socket's " +
                                 std::to_string(sizeof address.sun_path - 1) + " bytes");
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    Fd socket(sys::check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket(" + what + ")"));
    sys::check(::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address),
               "connect(" + what + ")");
    return socket;
}

void attach_new_pty(int socket, const std::optional<std::pair<unsigned, unsigned>>& size) {
    // The container's own instance (lab 02's devpts, newinstance): a pty
    // of the host's /dev/ptmx would name a terminal the container cannot see.
    Fd master(
        sys::check(::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), "open(/dev/pts/ptmx)"));
    int unlock = 0;
    sys::check(::ioctl(master.get(), TIOCSPTLCK, &unlock), "ioctl(TIOCSPTLCK)");  // unlockpt(3)
    unsigned number = 0;
    sys::check(::ioctl(master.get(), TIOCGPTN, &number), "ioctl(TIOCGPTN)");  // ptsname(3)
    // The replica through the master itself (TIOCGPTPEER, ioctl_tty(2)),
    // not by its name: a name in /dev/pts could be another file by now.
    Fd replica(sys::check(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC),
                          "ioctl(TIOCGPTPEER)"));
    if (size) {
        winsize window{};
        window.ws_row = static_cast<unsigned short>(size->first);
        window.ws_col = static_cast<unsigned short>(size->second);
        sys::check(::ioctl(replica.get(), TIOCSWINSZ, &window), "ioctl(TIOCSWINSZ)");
    }
    send_fd(socket, master.get(), "/dev/pts/" + std::to_string(number));
    master.reset();  // the engine's now: the last close would hang the terminal up
    // A terminal controls one session, and only its leader may take it
    // (setsid(2), TIOCSCTTY in ioctl_tty(2)).
    sys::check(::setsid(), "setsid()");
    sys::check(::ioctl(replica.get(), TIOCSCTTY, 0), "ioctl(TIOCSCTTY)");
    for (int fd = 0; fd <= 2; ++fd)
        sys::check(::dup2(replica.get(), fd), "dup2(pty, " + std::to_string(fd) + ")");
}

bool wait_until_read(int socket, std::chrono::milliseconds limit) {
    // No event says the peer has read: ask the queue, a millisecond apart.
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        int unread = 0;
        sys::check(::ioctl(socket, SIOCOUTQ, &unread), "ioctl(console socket, SIOCOUTQ)");
        if (unread == 0) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

}  // namespace nslab::console

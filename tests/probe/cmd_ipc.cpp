// Lab 08's probe subcommands: System V shared memory and POSIX message
// queues, made and looked up by the names any process could guess.
#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

#include "probe.hpp"

namespace {

key_t key_of(const std::string& text) {
    return static_cast<key_t>(std::stol(text, nullptr, 0));
}

// KEY NAME: a 4 KiB segment with that key and a queue with that name. They
// stay until the IPC namespace ends (or ipcrm / mq_unlink).
int cmd_ipc_make(const probe::Args& args) {
    int id = ::shmget(key_of(args.at(0)), 4096, IPC_CREAT | IPC_EXCL | 0600);
    mqd_t queue = ::mq_open(args.at(1).c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, nullptr);
    if (id == -1 || queue == static_cast<mqd_t>(-1)) {
        std::cerr << "probe ipc-make: " << std::strerror(errno) << "\n";
        return 1;
    }
    ::mq_close(queue);
    std::cout << "shm: " << id << "\nmq: " << args.at(1) << "\n";
    return 0;
}

// KEY NAME: is there a segment with that key, a queue with that name?
int cmd_ipc_find(const probe::Args& args) {
    bool shm = ::shmget(key_of(args.at(0)), 0, 0) != -1;
    mqd_t queue = ::mq_open(args.at(1).c_str(), O_RDONLY);
    bool mq = queue != static_cast<mqd_t>(-1);
    if (mq) ::mq_close(queue);
    std::cout << "shm: " << (shm ? "present" : "absent") << "\nmq: " << (mq ? "present" : "absent")
              << "\n";
    return 0;
}

const probe::Register r_ipc_make("ipc-make", cmd_ipc_make,
                                 "KEY NAME: make a SysV shm segment KEY and a POSIX queue NAME");
const probe::Register r_ipc_find("ipc-find", cmd_ipc_find,
                                 "KEY NAME: say whether segment KEY and queue NAME are visible");

}  // namespace

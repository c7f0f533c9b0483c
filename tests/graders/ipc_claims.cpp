// Lab 08's claims: the IPC namespace hides System V objects and POSIX
// message queues in both directions, and /dev/mqueue is the container's own.
#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>
#include <string>

#include "harness.hpp"
#include "nslab/sys.hpp"

using namespace grader;

namespace {

// A key and a queue name no other grader running at the same time uses. Both
// carry the whole PID (below 2^22, PID_MAX_LIMIT), so that `nslab cleanup`
// (tool/src/cleanup.cpp reads them back) can tell whether their grader is gone.
std::string key_for(int n) {
    return std::to_string(0x6e000000 | (::getpid() << 3) | n);
}
std::string queue_for(int n) {
    return "/nslab-grader-" + std::to_string(::getpid()) + "-" + std::to_string(n);
}

// A segment and a queue made on the host, removed when the claim ends.
struct HostObjects {
    std::string key, queue;
    int shm_id = -1;
    explicit HostObjects(int n) : key(key_for(n)), queue(queue_for(n)) {
        shm_id = ::shmget(std::stoi(key), 4096, IPC_CREAT | 0600);
        // A tiny queue: queues count against the user's RLIMIT_MSGQUEUE, and
        // a grader killed before its destructor leaves its queue behind.
        mq_attr tiny{};
        tiny.mq_maxmsg = 1;
        tiny.mq_msgsize = 64;
        mqd_t q = ::mq_open(queue.c_str(), O_CREAT | O_RDWR, 0600, &tiny);
        if (shm_id == -1 || q == static_cast<mqd_t>(-1))
            throw std::runtime_error("cannot make the host's IPC objects for this claim");
        ::mq_close(q);
    }
    ~HostObjects() {
        ::shmctl(shm_id, IPC_RMID, nullptr);
        ::mq_unlink(queue.c_str());
    }
};

bool host_has_segment(const std::string& key) {
    return ::shmget(std::stoi(key), 0, 0) != -1;
}
bool host_has_queue(const std::string& name) {
    mqd_t q = ::mq_open(name.c_str(), O_RDONLY);
    if (q == static_cast<mqd_t>(-1)) return false;
    ::mq_close(q);
    return true;
}

// /proc/sysvipc/shm shows the reader's IPC namespace; its second column is the key.
bool sysvipc_lists(const std::string& table, const std::string& key) {
    std::istringstream lines(table);
    std::string line;
    std::getline(lines, line);  // the header
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        long long listed = 0;
        if (fields >> listed && std::to_string(listed) == key) return true;
    }
    return false;
}

}  // namespace

TEST(Ipc, NewIpcNamespace) {
    claim(2, "lab08 step 1 (CLONE_NEWIPC)");
    auto c = Running::start(lab(), {"--net", "none"}, probe({"hold"}));
    auto host = namespaces_of(::getpid());
    auto inside = namespaces_of(c.container_pid());
    EXPECT_NE(inside["ipc"], host["ipc"]) << "expected a new IPC namespace, observed the host's";
    std::string ps = run_host("ps -o ipcns= -p " + std::to_string(c.container_pid()));
    EXPECT_EQ(std::stoull(ps), inside["ipc"]) << "host ps -o ipcns says " << ps;
}

TEST(Ipc, HostObjectsAreInvisibleInside) {
    claim(3, "lab08 step 1 (CLONE_NEWIPC)");
    HostObjects host(1);
    ASSERT_TRUE(host_has_segment(host.key) && host_has_queue(host.queue)) << "negative control";
    Result r = run(lab(), {"--net", "none"},
                   probe({"ipc-find", host.key, host.queue, ",", "cat", "/proc/sysvipc/shm"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    auto fields = key_values(r.out);
    EXPECT_EQ(fields["shm"], "absent")
        << "the host's segment with key " << host.key << " is visible inside: no new IPC namespace";
    EXPECT_EQ(fields["mq"], "absent")
        << "the host's queue " << host.queue << " is visible inside: no new IPC namespace";
    EXPECT_FALSE(sysvipc_lists(r.out, host.key))
        << "/proc/sysvipc/shm inside lists the host's segment:\n"
        << r.out;
}

TEST(Ipc, ContainerObjectsAreInvisibleOnTheHost) {
    claim(3, "lab08 step 1 (CLONE_NEWIPC)");
    const std::string key = key_for(2), queue = queue_for(2);
    auto c = Running::start(lab(), {"--net", "none"},
                            probe({"ipc-make", key, queue, ",", "ipc-find", key, queue, ",", "cat",
                                   "/proc/sysvipc/shm", ",", "hold"}));
    std::string inside = c.first_line() + "\n";
    for (std::string line; (line = c.read_line()).rfind("ready", 0) != 0 && !line.empty();)
        inside += line + "\n";
    ASSERT_HAS(inside, "shm: present") << "the container could not make and see its own segment:\n"
                                       << inside;
    EXPECT_TRUE(sysvipc_lists(inside, key)) << "inside, /proc/sysvipc/shm lists it:\n" << inside;
    EXPECT_FALSE(host_has_segment(key))
        << "the container's segment (key " << key << ") is visible on the host";
    EXPECT_FALSE(host_has_queue(queue))
        << "the container's queue " << queue << " is visible on the host";
    EXPECT_FALSE(sysvipc_lists(nslab::sys::read_file("/proc/sysvipc/shm"), key))
        << "the host's /proc/sysvipc/shm lists the container's segment";
}

TEST(Ipc, MqueueIsTheContainersOwn) {
    claim(2, "lab08 step 2 (mount mqueue)");
    HostObjects host(3);
    const std::string queue = queue_for(4);
    Result r = run(lab(), {"--net", "none"},
                   {"/bin/sh", "-c",
                    "probe statfs /dev/mqueue && ls /dev/mqueue && "
                    "probe ipc-make " +
                        key_for(4) + " " + queue +
                        " >/dev/null && "
                        "echo after && ls /dev/mqueue"});
    ASSERT_EQ(r.status, 0) << "expected an mqueue file system at /dev/mqueue: " << r.err;
    EXPECT_HAS(r.out, "f_type: 0x19800202")
        << "/dev/mqueue should be an mqueue file system (MQUEUE_MAGIC):\n"
        << r.out;
    std::string before = r.out.substr(0, r.out.find("after\n"));
    std::string after = r.out.substr(r.out.find("after\n") + 6);
    EXPECT_LACKS(before, host.queue.substr(1))
        << "/dev/mqueue inside lists the host's queue: it is the host's mqueue, not a fresh one "
           "mounted in the new IPC namespace:\n"
        << r.out;
    EXPECT_HAS(after, queue.substr(1))
        << "a queue made inside should show in the container's /dev/mqueue:\n"
        << r.out;
}

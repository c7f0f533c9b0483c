/* The floor: the least a runtime can do to start a command in new
 * namespaces. One clone(2) with the CLONE_NEW* flags asked for (and, for a
 * time namespace, unshare(2) first: CLONE_NEWTIME cannot go in clone's
 * flags), then the child execs; the parent waits. No sync pipe, no pid file,
 * no cgroup, no veth: whatever a runtime spends beyond this is its own.
 *
 *   floor [-pmuniCtU] [-r ROOTFS | -P ROOTFS] -- CMD [ARG]...
 *
 *   -p pid  -m mount  -u uts  -n net  -i ipc  -C cgroup  -t time  -U user
 *   -r ROOTFS  chroot(2) into ROOTFS before exec (the cheapest way to run
 *              the rootfs's own binaries)
 *   -P ROOTFS  what every real runtime does instead: make / private, bind
 *              ROOTFS onto itself, mount proc, pivot_root, detach the old root
 *
 * Exit status: the command's, 128+n for signal n, 125 if set-up failed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* rootfs;
static int pivot;
static char** command;

static void die(const char* what) {
    fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
    _exit(125);
}

static int child(void* arg) {
    (void)arg;
    if (rootfs && pivot) {
        char proc[4096];
        snprintf(proc, sizeof proc, "%s/proc", rootfs);
        if (mount("", "/", "", MS_REC | MS_PRIVATE, NULL)) die("mount(/, MS_PRIVATE)");
        if (mount(rootfs, rootfs, "", MS_BIND | MS_REC, NULL)) die("mount(ROOTFS, MS_BIND)");
        if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) die("mount(proc)");
        if (chdir(rootfs)) die("chdir(ROOTFS)");
        if (syscall(SYS_pivot_root, ".", ".")) die("pivot_root(., .)");
        if (umount2(".", MNT_DETACH)) die("umount2(., MNT_DETACH)");
        if (chdir("/")) die("chdir(/)");
    } else if (rootfs) {
        if (chroot(rootfs) || chdir("/")) die("chroot(ROOTFS)");
    }
    execvp(command[0], command);
    fprintf(stderr, "floor: cannot run '%s': %s\n", command[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
}

int main(int argc, char** argv) {
    int flags = 0, time_ns = 0, opt;
    while ((opt = getopt(argc, argv, "+pmuniCtUr:P:")) != -1) {
        switch (opt) {
            case 'p':
                flags |= CLONE_NEWPID;
                break;
            case 'm':
                flags |= CLONE_NEWNS;
                break;
            case 'u':
                flags |= CLONE_NEWUTS;
                break;
            case 'n':
                flags |= CLONE_NEWNET;
                break;
            case 'i':
                flags |= CLONE_NEWIPC;
                break;
            case 'C':
                flags |= CLONE_NEWCGROUP;
                break;
            case 'U':
                flags |= CLONE_NEWUSER;
                break;
            case 't':
                time_ns = 1;
                break;
            case 'P':
                pivot = 1; /* fall through */
            case 'r':
                rootfs = optarg;
                break;
            default:
                fprintf(stderr,
                        "usage: floor [-pmuniCtU] [-r ROOTFS | -P ROOTFS] -- CMD [ARG]...\n");
                return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "floor: no command\n");
        return 2;
    }
    if (pivot && !(flags & CLONE_NEWNS)) {
        fprintf(stderr, "floor: -P needs -m\n");
        return 2;
    }
    command = argv + optind;
    if (time_ns && unshare(CLONE_NEWTIME)) die("unshare(CLONE_NEWTIME)");
    static char stack[1 << 16] __attribute__((aligned(16)));
    pid_t pid = clone(child, stack + sizeof stack, flags | SIGCHLD, NULL);
    if (pid < 0) die("clone");
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) die("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The source article's clone(CLONE_NEWPID) example (§3.2), exactly as it
// stands there (only this comment added). Lab 01's handout, "Predict, then
// observe", builds and runs it: does it build, and does `ps aux` show only
// the child and `ps`?
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int child_func(void *arg) {
    // 子进程在新的 PID Namespace 中，PID 为 1
    printf("子进程 PID（Namespace 内）: %d\n", getpid());
    system("ps aux"); // 仅能看到当前 Namespace 内的进程
    return 0;
}

int main() {
    char stack[1024 * 1024]; // 子进程栈空间（必须指定）
    // 创建子进程，指定 CLONE_NEWPID 标志，进入新的 PID Namespace
    pid_t pid = clone(child_func, stack + sizeof(stack), SIGCHLD | CLONE_NEWPID, NULL);
    if (pid == -1) {
        perror("clone failed");
        exit(1);
    }
    // 父进程看到的是子进程的“全局 PID”（非 Namespace 内的 PID）
    printf("子进程 PID（宿主机全局）: %d\n", pid);
    waitpid(pid, NULL, 0); // 等待子进程结束
    return 0;
}

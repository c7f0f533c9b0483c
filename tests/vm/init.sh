#!/bin/busybox sh
# shellcheck shell=sh
# PID 1 of the tests/vm guest (busybox sh). tests/vm/run puts this file at
# /init of the initramfs, next to /etc/nslab-vm.conf (MODE, BUILD, FILTER,
# MODULES) and /etc/nslab-vm/results.awk.
#
# Stage 1 copies the initramfs onto a tmpfs and switch_roots into it: the
# initial ramfs cannot be pivot_root'ed away from (pivot_root(2), EINVAL), and
# the containers under test pivot_root. Stage 2 sets the machine up the way the
# mode asks, runs every grader and powers off. Results go to the serial console:
#   NSLAB-VM-RESULT <grader> <Suite.Test> PASS|FAIL|SKIP
#   NSLAB-VM-LOG <failure text>
#   NSLAB-VM-DONE <passed> <failed>
# A setup step that fails prints "NSLAB-VM-ERROR <why>" and powers off
# without DONE, which the host reports as a harness error.

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

fatal() {
    echo "NSLAB-VM-ERROR $*"
    sync
    poweroff -f
    sleep 5
    exit 1
}

stage1() {
    # The kernel could not open /dev/console if the archive has no /dev yet.
    mount -t devtmpfs devtmpfs /dev 2>/dev/null
    exec </dev/console >/dev/console 2>&1
    mkdir -p /newroot
    mount -t tmpfs -o mode=755,size=85% rootfs /newroot || fatal "tmpfs for the root"
    for entry in /* /.[!.]*; do
        case "$entry" in
        /newroot | /dev | /proc | /sys | '/.[!.]*') continue ;;
        esac
        cp -a "$entry" /newroot/ || fatal "copy $entry to the tmpfs root"
    done
    mkdir -p /newroot/dev /newroot/proc /newroot/sys
    mount --move /dev /newroot/dev || fatal "move /dev"
    exec switch_root /newroot /init stage2
}

write_etc() {
    cat >/etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
nslabtest:x:1000:1000:nslab test user:/home/nslabtest:/bin/sh
nslab:x:999:999:nslab subordinate ids:/nonexistent:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
    cat >/etc/group <<'EOF'
root:x:0:
nslabtest:x:1000:
nslab:x:999:
nogroup:x:65534:
EOF
    cat >/etc/shadow <<'EOF'
root:*:19000:0:99999:7:::
nslabtest:*:19000:0:99999:7:::
nslab:!:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
    chmod 640 /etc/shadow
    # nslab: the default maps of --userns as root (./nslab setup makes them on a host)
    printf 'nslabtest:100000:65536\nnslab:165536:65536\n' >/etc/subuid
    printf 'nslabtest:100000:65536\nnslab:165536:65536\n' >/etc/subgid
    printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >/etc/nsswitch.conf
    printf '127.0.0.1\tlocalhost\n127.0.1.1\tnslab-vm\n::1\tlocalhost\n' >/etc/hosts
    echo nslab-vm >/etc/hostname
    hostname nslab-vm
    mkdir -p /root /home/nslabtest
    chmod 700 /root
    chown 1000:1000 /home/nslabtest
}

# Pure cgroup v2, as systemd mounts it on Debian 12, with every controller the
# kernel offers enabled for the children of the root.
cgroup_unified() {
    mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
        fatal "mount cgroup2 on /sys/fs/cgroup"
    enabled=""
    read -r controllers </sys/fs/cgroup/cgroup.controllers
    for c in $controllers; do
        if echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
            enabled="$enabled +$c"
        else
            echo "nslab-vm: could not enable +$c in the root's cgroup.subtree_control"
        fi
    done
    echo "nslab-vm: cgroup2 at /sys/fs/cgroup, subtree_control:$enabled"
}

# Only cgroup v1: a tmpfs with one hierarchy per controller (cpu and cpuacct
# share one), read-only afterwards like systemd leaves it. Nothing binds a
# controller to cgroup2, so every v1 mount is possible.
cgroup_legacy() {
    mount -t tmpfs -o nosuid,nodev,noexec,mode=755 cgroup /sys/fs/cgroup ||
        fatal "mount tmpfs on /sys/fs/cgroup"
    mounted=""
    for h in cpu,cpuacct memory pids freezer devices blkio cpuset; do
        first=${h%%,*}
        if ! awk -v c="$first" '$1 == c && $4 == 1 { found = 1 } END { exit !found }' /proc/cgroups; then
            echo "nslab-vm: the kernel has no v1 controller $first; skipped"
            continue
        fi
        mkdir -p "/sys/fs/cgroup/$h"
        mount -t cgroup -o "nosuid,nodev,noexec,$h" cgroup "/sys/fs/cgroup/$h" ||
            fatal "mount cgroup v1 $h"
        mounted="$mounted $h"
    done
    ln -s cpu,cpuacct /sys/fs/cgroup/cpu
    ln -s cpu,cpuacct /sys/fs/cgroup/cpuacct
    mount -o remount,ro /sys/fs/cgroup 2>/dev/null
    grep -q cgroup2 /proc/mounts && fatal "a cgroup2 mount exists in legacy mode"
    echo "nslab-vm: cgroup v1 hierarchies:$mounted"
}

# The reliability suite's leak runs and bad-input table (tests/faults), when
# the build has them and no filter narrows the run: one result line each,
# from nslab-faults' exit status (0: nothing failed).
run_faults() {
    faults=$BUILD/bin/nslab-faults
    [ -x "$faults" ] && [ -z "$FILTER" ] || return 0
    echo "nslab-vm: running nslab-faults"
    for what in leaks bad-inputs; do
        case "$what" in
        leaks) set -- leaks --seed 1 --rounds 1 ;;
        bad-inputs) set -- bad-inputs /etc/nslab-vm/bad_inputs.tsv ;;
        esac
        [ "$what" = leaks ] || [ -r /etc/nslab-vm/bad_inputs.tsv ] || continue
        status=0
        out=$(cd "$BUILD" && "$faults" "$@" </dev/null 2>&1) || status=$?
        if [ "$status" = 0 ]; then
            echo "NSLAB-VM-RESULT nslab-faults faults.$what PASS"
            passed=$((passed + 1))
        else
            echo "NSLAB-VM-RESULT nslab-faults faults.$what FAIL"
            printf '%s\n' "$out" | grep -v '^ok ' | tail -30 | sed 's/^/NSLAB-VM-LOG /'
            failed=$((failed + 1))
        fi
    done
}

# Claims that need a tool the guest lacks, left to the host's run: lab 10's
# comparison with podman (podman loads and runs the image that claim builds;
# the guest has no podman) and lab 12's podman-with-runc-and-lab12_oci
# claims (Oci.Podman*). Named in the log, never left out silently.
HOST_ONLY="Image.BuiltImageRunsTheSameInPodman:Oci.Podman*"

run_graders() {
    passed=0
    failed=0
    found=0
    [ -z "$FILTER" ] && echo "nslab-vm: on the host only (the guest has no podman): $HOST_ONLY"
    # The graders, and the reliability suite's escape checks (issue 10).
    for grader in "$BUILD"/bin/grade_lab* "$BUILD"/bin/fault_escapes; do
        [ -x "$grader" ] || continue
        found=1
        name=${grader##*/}
        echo "nslab-vm: running $name"
        set -- --gtest_color=no
        if [ -n "$FILTER" ]; then set -- "$@" "--gtest_filter=$FILTER"; else set -- "$@" "--gtest_filter=-$HOST_ONLY"; fi
        rm -f /tmp/.nslab-vm-counts /tmp/.nslab-vm-rc
        (
            cd "$BUILD" || exit 1
            "$grader" "$@" </dev/null 2>&1
            echo $? >/tmp/.nslab-vm-rc
        ) | awk -v grader="$name" -v counts=/tmp/.nslab-vm-counts -f /etc/nslab-vm/results.awk
        rc=$(cat /tmp/.nslab-vm-rc 2>/dev/null || echo 255)
        p=0
        f=0
        [ -f /tmp/.nslab-vm-counts ] && read -r p f _ </tmp/.nslab-vm-counts
        if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
            # Died outside any test (bad flag, crash in a fixture, ...).
            echo "NSLAB-VM-RESULT $name $name.exit-status FAIL"
            echo "NSLAB-VM-LOG $name exited with status $rc and no failed test"
            f=1
        fi
        passed=$((passed + p))
        failed=$((failed + f))
    done
    [ "$found" = 1 ] || fatal "no executable $BUILD/bin/grade_lab* in the guest"
    run_faults
    echo "NSLAB-VM-DONE $passed $failed"
}

stage2() {
    mount -t proc -o nosuid,nodev,noexec proc /proc
    mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
    # stage 1 moved its devtmpfs here
    grep -q '^devtmpfs /dev ' /proc/mounts || mount -t devtmpfs devtmpfs /dev
    exec </dev/console >/dev/console 2>&1
    echo # end the line the firmware left on the console
    # From here the console carries only our lines; dmesg is dumped at the end.
    echo "1 4 1 7" >/proc/sys/kernel/printk
    mkdir -p /dev/pts /dev/shm /tmp /run
    mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
    mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm
    mount -t tmpfs -o nosuid,nodev,mode=755 run /run
    [ -r /etc/nslab-vm.conf ] || fatal "no /etc/nslab-vm.conf"
    # shellcheck source=/dev/null
    . /etc/nslab-vm.conf
    case "$BUILD/" in
    /tmp/*) echo "nslab-vm: the build tree is under /tmp, so /tmp stays on the root tmpfs" ;;
    *) mount -t tmpfs -o nosuid,nodev,mode=1777 tmp /tmp ;;
    esac
    ln -sf /proc/self/fd /dev/fd
    ln -sf /proc/self/fd/0 /dev/stdin
    ln -sf /proc/self/fd/1 /dev/stdout
    ln -sf /proc/self/fd/2 /dev/stderr
    # Like systemd: every mount shared, so a runtime that forgets MS_PRIVATE
    # leaks its mounts here as it would on a student's VM.
    mount --make-rshared /

    case "$MODE" in
    unified) cgroup_unified ;;
    legacy) cgroup_legacy ;;
    *) fatal "unknown mode '$MODE'" ;;
    esac

    for m in $MODULES; do
        insmod "/lib/modules/$(uname -r)/$m" || fatal "insmod $m"
    done
    ip link set lo up || fatal "ip link set lo up"
    write_etc
    cd / || fatal "cd /"
    export HOME=/root TERM=dumb LANG=C.UTF-8 NSLAB_VM_MODE="$MODE"
    echo "NSLAB-VM-BOOT $(cut -d' ' -f1 /proc/uptime) kernel $(uname -r) mode $MODE userns_clone $(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo n/a)"

    run_graders

    echo "nslab-vm: kernel log follows"
    dmesg | sed 's/^/NSLAB-VM-DMESG /'
    sync
    poweroff -f
    sleep 10
}

if [ "$$" != 1 ]; then
    echo "init.sh: must run as PID 1 of the tests/vm guest" >&2
    exit 2
fi
case "${1:-}" in
stage2) stage2 ;;
*) stage1 ;;
esac

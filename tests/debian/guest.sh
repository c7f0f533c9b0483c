#!/bin/bash
# Runs inside the Debian guest of tests/debian/run, as root, as a systemd
# service once the system is up: the Vagrantfile's PROVISION as Vagrant's
# shell provisioner runs it (root, in /vagrant's copy), then, as the vagrant
# user in a login shell, what a student's shell sees. Results go to the share
# (/vagrant/.nslab-debian: facts, provision.log); lines starting
# "nslab-debian: " on the console show the progress. Powers off at the end.
set -uo pipefail
lib=/usr/local/lib/nslab-debian
out=/vagrant/.nslab-debian
# shellcheck source=/dev/null # written by tests/debian/run: PROVISION_AT, MUTANT
. "$lib/guest.conf"
trap 'sync; systemctl poweroff --no-block' EXIT
say() { echo "nslab-debian: $*"; }
fact() { echo "$1=$2" >>"$out/facts.part"; }
: >"$out/facts.part"

say "up: $(systemctl show -p Version --value) as PID 1, kernel $(uname -r)"
fact pid1 "$(ps -o comm= -p 1)"
fact root_propagation "$(findmnt -no PROPAGATION /)"
fact cgroup_fs "$(stat -fc %T /sys/fs/cgroup)"
fact cgroup_controllers_at_boot "$(cat /sys/fs/cgroup/cgroup.controllers)"
fact vagrant_fs "$(findmnt -no FSTYPE /vagrant)"
fact vagrant_owner "$(stat -c %u:%g /vagrant/nslab)"
fact network "$(ip -o link show | awk -F': ' '{ print $2 }' | paste -sd' ' -)"

# PROVISION as Vagrant runs an inline script: root, bash. BASH_ENV (read
# before the script, then unset for its children) names the Vagrantfile's
# line of the command that failed.
cat >"$lib/provision-env" <<EOF
unset BASH_ENV
trap 'echo "Vagrantfile:\$((LINENO + $PROVISION_AT)): PROVISION failed here (exit \$?): \$BASH_COMMAND" >&2' ERR
EOF
say "running PROVISION (Vagrantfile:$((PROVISION_AT + 1))-)"
t0=$SECONDS
(cd /root && env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TERM=dumb LANG=C.UTF-8 BASH_ENV="$lib/provision-env" bash "$lib/provision.sh") >"$out/provision.log" 2>&1
rc=$?
fact provision_rc "$rc"
fact provision_seconds "$((SECONDS - t0))"
say "PROVISION exited $rc after $((SECONDS - t0)) s"
grep -h 'PROVISION failed here' "$out/provision.log" | while IFS= read -r line; do say "$line"; done

# A student's login: vagrant's login shell (a logind session, as ssh's is).
# shellcheck disable=SC2016 # expanded by vagrant's shell
login=$(su -l vagrant -c 'sed -n "s/^0:://p" /proc/self/cgroup
    echo "${NSLAB_BUILD_ROOT:-}"
    sudo -n true && echo ok || echo no
    sudo -n sh -c "echo \${NSLAB_BUILD_ROOT:-}"' 2>"$out/login.err")
{
    read -r cgroup
    read -r build_root
    read -r sudo_ok
    read -r sudo_build_root
} <<<"$login"
fact login_cgroup "${cgroup:-}"
fact login_build_root "${build_root:-}"
fact login_sudo "${sudo_ok:-}"
fact sudo_build_root "${sudo_build_root:-}"
fact max_user_namespaces "$(sysctl -n user.max_user_namespaces)"
fact nslab_user "$(getent passwd nslab | cut -d: -f1)$(grep -q '^nslab:' /etc/subuid || echo ' without /etc/subuid')"
missing=""
for p in $(cd /vagrant && ./nslab setup --list); do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+="$p "
done
fact missing_packages "${missing% }"
# The build the host made natively: PROVISION's doctor, the first build
# here, found nothing to do (a rebuild under TCG would take hours).
cp /var/tmp/nslab-build/solutions/build.log "$out/first-build.log" 2>/dev/null || true
fact cgroup_controllers_after_provision "$(cat /sys/fs/cgroup/cgroup.controllers)"
if grep -q 'no work to do' /var/tmp/nslab-build/solutions/build.log 2>/dev/null; then
    fact prebuilt_up_to_date yes
else
    fact prebuilt_up_to_date "no: $(tail -n 3 /var/tmp/nslab-build/solutions/build.log 2>/dev/null | paste -sd' ' -)"
fi

# README's quick start in the VM, as a student types it: vagrant's login
# shell in /vagrant, sudo where README has it. NAME.log on the share.
student() { # $1: NAME, $2: the command line
    local t=$SECONDS rc=0
    say "as vagrant: $2"
    su -l vagrant -c "cd /vagrant && $2" </dev/null >"$out/$1.log" 2>&1 || rc=$?
    fact "$1_rc" "$rc"
    fact "$1_seconds" "$((SECONDS - t))"
    say "$2: exit $rc after $((SECONDS - t)) s"
}
if [[ $rc == 0 ]]; then
    student doctor "sudo ./nslab doctor"
    student run0 "sudo ./nslab run 0"
    student grade "sudo ./nslab grade --tree solutions"
    # The scoreboard's "summary: N/N claims, P/P points" when full.
    full=$(sed -n 's/^summary: \([0-9]*\)\/\([0-9]*\) claims.*$/\1 \2/p' "$out/grade.log" | tail -1)
    read -r passed all <<<"${full:-0 x}"
    fact grade_full "$([[ $passed == "$all" ]] && echo yes || echo "no: ${full:-no summary line}")"
    student student0 "sudo ./nslab grade --tree student --lab 0"
    fact student0_hints "$(grep -q 'revisit' "$out/student0.log" && echo yes || echo no)"
    # Lab 05 rootless: the vagrant user itself, no sudo.
    # shellcheck disable=SC2016 # expanded by vagrant's shell
    student rootless '"$(./nslab build-dir)"/solutions/bin/lab05_user --userns -- /bin/sh -c "id -u; cat /proc/self/setgroups"'
    fact rootless "$(paste -sd' ' "$out/rootless.log")"
    # A claim that passes only where / is private must fail here when its
    # step is broken: the mutant's grader, built natively by tests/debian/run.
    patch=/vagrant/tests/mutants/$MUTANT.patch mutant_bin=/var/tmp/nslab-build/mutant/bin
    claims=$(sed -n 's/^# claim: *\([A-Za-z0-9_.]*\).*/\1/p' "$patch" | paste -sd: -)
    lab=$(sed -n 's/^# lab: *\([0-9]*\).*/\1/p' "$patch" | head -1)
    fact mutant_claims "$claims"
    say "mutant $MUTANT: its claims $claims must fail"
    if "$mutant_bin/nslab-tool" grade --lang en --bin "$mutant_bin" --lab "$lab" --filter "$claims" \
        --format text --expect fail </dev/null >"$out/mutant.log" 2>&1; then
        fact mutant_caught yes
    else
        fact mutant_caught "no (mutant.log)"
    fi
fi
mv "$out/facts.part" "$out/facts"
say "done"

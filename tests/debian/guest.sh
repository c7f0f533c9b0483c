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
# shellcheck source=/dev/null # written by tests/debian/run: PROVISION_AT, DOCTOR_LINE
. "$lib/guest.conf"
trap 'sync; systemctl poweroff --no-block' EXIT
say() { echo "nslab-debian: $*"; }
fact() { echo "$1=$2" >>"$out/facts.part"; }
: >"$out/facts.part"

say "up: $(systemctl show -p Version --value) as PID 1, kernel $(uname -r)"
fact pid1 "$(ps -o comm= -p 1)"
fact root_propagation "$(findmnt -no PROPAGATION /)"
fact cgroup_fs "$(stat -fc %T /sys/fs/cgroup)"
fact vagrant_fs "$(findmnt -no FSTYPE /vagrant)"
fact vagrant_owner "$(stat -c %u:%g /vagrant/nslab)"
fact network "$(ip -o link show | awk -F': ' '{ print $2 }' | paste -sd' ' -)"

# PROVISION as Vagrant runs an inline script: root, bash. BASH_ENV (read
# before the script, then unset for its children) names the Vagrantfile's
# line of the command that failed; the doctor's line is not run (a build
# from nothing, tests/debian/README.md): the script stops before it.
cat >"$lib/provision-env" <<EOF
unset BASH_ENV
trap 'echo "Vagrantfile:\$((LINENO + $PROVISION_AT)): PROVISION failed here (exit \$?): \$BASH_COMMAND" >&2' ERR
EOF
if [[ -n $DOCTOR_LINE ]]; then
    cat >>"$lib/provision-env" <<EOF
trap '((LINENO != $DOCTOR_LINE)) || { echo "Vagrantfile:\$((LINENO + $PROVISION_AT)): PROVISION stopped before \$BASH_COMMAND (not run here)" >&2; exit 0; }' DEBUG
EOF
fi
say "running PROVISION (Vagrantfile:$((PROVISION_AT + 1))-)"
t0=$SECONDS
(cd /root && env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TERM=dumb LANG=C.UTF-8 BASH_ENV="$lib/provision-env" bash "$lib/provision.sh") >"$out/provision.log" 2>&1
rc=$?
fact provision_rc "$rc"
fact provision_seconds "$((SECONDS - t0))"
say "PROVISION exited $rc after $((SECONDS - t0)) s"
grep -h 'PROVISION \(failed here\|stopped\)' "$out/provision.log" | while IFS= read -r line; do say "$line"; done

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
mv "$out/facts.part" "$out/facts"
say "done"

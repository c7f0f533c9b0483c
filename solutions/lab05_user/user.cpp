// Lab 05: the user namespace and its id maps.
//
// CLONE_NEWUSER gives the child a user namespace of its own, in which it has
// every capability (user_namespaces(7)); the namespaces made in the same
// clone(2) are owned by it, so those capabilities work on them and nowhere
// else. Its uids and gids mean nothing until the parent writes the maps
// from inside-ids to host ids: until then every id shows as 65534 ("nobody")
// and the child must wait. The kernel still checks host files against the
// host ids, so "root" inside is an ordinary user outside.
#include "nslab/layers/user.hpp"

#include <sched.h>

#include <string>

#include "nslab/idmap.hpp"
#include "nslab/sys.hpp"

namespace nslab::user {

unsigned long clone_flags() {
    // Step 1. In one clone(2) the kernel makes the user namespace first and
    // gives it the others (pid, mount, uts, net, ipc): that is what lets an
    // unprivileged user make them at all.
    return CLONE_NEWUSER;
}

void in_parent(const Config& cfg, pid_t child) {
    const idmap::Plan plan = idmap::plan(cfg);
    const std::string proc = "/proc/" + std::to_string(child);

    // Step 2. Each map is written once, in one write(2), by a process with
    // CAP_SETUID over the child's namespace: we made it, so we have that.
    sys::write_file(proc + "/uid_map", plan.uid_map);

    // Step 3. Without CAP_SETGID on the host the kernel refuses gid_map
    // until setgroups(2) is off for good in the namespace: otherwise its
    // root could drop a supplementary group that a file denies access to
    // (CVE-2014-8989). Root on the host may keep setgroups allowed.
    if (plan.deny_setgroups) sys::write_file(proc + "/setgroups", "deny");

    // Step 4. Now the gid map; then the orchestrator lets the child go.
    sys::write_file(proc + "/gid_map", plan.gid_map);
}

void in_child() {
    // Step 5. The maps exist (the child waited for them), but our ids are
    // still the runtime's: host root is not mapped under --uid-map
    // 0:100000:65536, so we would be 65534. Become 0 of the namespace, or
    // execve(2) would drop the capabilities we hold here (capabilities(7)).
    // Supplementary groups go first, while we may still change them; after
    // "deny" setgroups(2) is refused, and the host's groups stay as 65534.
    if (sys::read_file("/proc/self/setgroups") != "deny\n") sys::setgroups({});
    sys::setresgid(0, 0, 0);
    sys::setresuid(0, 0, 0);
}

}  // namespace nslab::user

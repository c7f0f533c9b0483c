// Lab 11's given capability plumbing, over libcap (capabilities(7),
// cap_get_proc(3), cap_drop_bound(3), cap_set_ambient(3)): names, the
// container's set, and the calls that change this thread's five sets. Which
// of these calls come in which order is the student's part (confine.cpp).
#pragma once

#include <sys/capability.h>

#include <string>
#include <string_view>
#include <vector>

#include "nslab/config.hpp"

namespace nslab::caps {

using Cap = cap_value_t;

// Docker's default set (moby's oci/caps/defaults.go): the 14 a container
// keeps, in that file's order.
std::vector<Cap> docker_default();
// Every capability this kernel knows (0 .. cap_max_bits() - 1).
std::vector<Cap> all_known();
// Those of them still in this thread's bounding set: what --cap-add ALL
// means (a runtime cannot give what it does not hold itself).
std::vector<Cap> all_held();
// "CHOWN", "cap_chown" or "CAP_CHOWN" -> CAP_CHOWN; throws UsageError
// naming `option` for a name libcap does not know.
Cap from_name(std::string_view option, std::string_view name);
// "CHOWN" for CAP_CHOWN.
std::string name_of(Cap cap);
// Checks every --cap-add/--cap-drop value (a name, or ALL): UsageError.
void check_names(const Config& cfg);
// The container's set: Docker's default, then each --cap-drop and
// --cap-add (ALL: all_held), the drops first as docker does.
std::vector<Cap> container_set(const Config& cfg);
bool contains(const std::vector<Cap>& set, Cap cap);

// Removes `cap` from this thread's bounding set (needs CAP_SETPCAP): no
// exec can bring it back (prctl(2) PR_CAPBSET_DROP).
void drop_from_bounding(Cap cap);
// Whether `cap` is still in the bounding set.
bool in_bounding(Cap cap);

// The permitted, effective and inheritable sets to give this thread at once
// (capset(2)).
class Sets {
  public:
    static Sets empty();    // all three empty
    static Sets current();  // as they are now
    Sets(Sets&&) noexcept;
    Sets& operator=(Sets&&) = delete;
    ~Sets();
    // Raises each of `caps` in `flag` (CAP_PERMITTED, CAP_EFFECTIVE or CAP_INHERITABLE).
    Sets& raise(cap_flag_t flag, const std::vector<Cap>& caps);
    // Makes them this thread's (the kernel refuses to raise one not permitted).
    void apply() const;

  private:
    explicit Sets(cap_t caps) : caps_(caps) {}
    cap_t caps_;
};

// Empties the ambient set (prctl(2) PR_CAP_AMBIENT_CLEAR_ALL).
void clear_ambient();

}  // namespace nslab::caps

#include "nslab/capabilities.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <cctype>

#include "nslab/errors.hpp"
#include "nslab/parse.hpp"
#include "nslab/sys.hpp"

namespace nslab::caps {

std::vector<Cap> docker_default() {
    return {CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
            CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
            CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
            CAP_KILL,    CAP_AUDIT_WRITE};
}

std::vector<Cap> all_known() {
    std::vector<Cap> all;
    for (Cap cap = 0; cap < static_cast<Cap>(cap_max_bits()); ++cap) all.push_back(cap);
    return all;
}

std::vector<Cap> all_held() {
    std::vector<Cap> held;
    for (Cap cap : all_known())
        if (in_bounding(cap)) held.push_back(cap);
    return held;
}

Cap from_name(std::string_view option, std::string_view name) {
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!lower.starts_with("cap_")) lower.insert(0, "cap_");
    Cap cap = 0;
    // cap_from_name also takes numbers: a name is letters and '_' only.
    const bool word = lower.size() > 4 && std::all_of(lower.begin(), lower.end(), [](char c) {
                          return std::islower(static_cast<unsigned char>(c)) || c == '_';
                      });
    if (!word || cap_from_name(lower.c_str(), &cap) != 0 || cap >= static_cast<Cap>(cap_max_bits()))
        parse::invalid(option, name, "not a capability (capabilities(7)), nor ALL");
    return cap;
}

std::string name_of(Cap cap) {
    char* text = cap_to_name(cap);
    std::string name = text ? text : std::to_string(cap);
    cap_free(text);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return name.starts_with("CAP_") ? name.substr(4) : name;
}

namespace {

bool is_all(std::string_view name) {
    return name == "ALL" || name == "all";
}

}  // namespace

void check_names(const Config& cfg) {
    for (const std::string& name : cfg.cap_add)
        if (!is_all(name)) from_name("--cap-add", name);
    for (const std::string& name : cfg.cap_drop)
        if (!is_all(name)) from_name("--cap-drop", name);
}

bool contains(const std::vector<Cap>& set, Cap cap) {
    return std::find(set.begin(), set.end(), cap) != set.end();
}

std::vector<Cap> container_set(const Config& cfg) {
    std::vector<Cap> set = docker_default();
    for (const std::string& name : cfg.cap_drop) {
        if (is_all(name)) {
            set.clear();
            continue;
        }
        std::erase(set, from_name("--cap-drop", name));
    }
    for (const std::string& name : cfg.cap_add) {
        for (Cap cap : is_all(name) ? all_held() : std::vector<Cap>{from_name("--cap-add", name)})
            if (!contains(set, cap)) set.push_back(cap);
    }
    std::sort(set.begin(), set.end());
    return set;
}

void drop_from_bounding(Cap cap) {
    sys::check(cap_drop_bound(cap), "cap_drop_bound(" + name_of(cap) + ")");
}

bool in_bounding(Cap cap) {
    return cap_get_bound(cap) == 1;
}

Sets Sets::empty() {
    cap_t caps = cap_init();
    if (!caps) sys::fail("cap_init()");
    return Sets(caps);
}

Sets Sets::current() {
    cap_t caps = cap_get_proc();
    if (!caps) sys::fail("cap_get_proc()");
    return Sets(caps);
}

Sets::Sets(Sets&& other) noexcept : caps_(other.caps_) {
    other.caps_ = nullptr;
}

Sets::~Sets() {
    if (caps_) cap_free(caps_);
}

Sets& Sets::raise(cap_flag_t flag, const std::vector<Cap>& caps) {
    if (caps.empty()) return *this;
    sys::check(cap_set_flag(caps_, flag, static_cast<int>(caps.size()), caps.data(), CAP_SET),
               "cap_set_flag()");
    return *this;
}

void Sets::apply() const {
    char* text = cap_to_text(caps_, nullptr);
    const std::string what = std::string("cap_set_proc(") + (text ? text : "?") + ")";
    cap_free(text);
    sys::check(cap_set_proc(caps_), what);
}

void clear_ambient() {
    sys::check(cap_reset_ambient(), "cap_reset_ambient()");
}

}  // namespace nslab::caps

// The labs, in teaching order: the one table everything else derives from
// (the command line's option groups, Config::has, the tool's lab list, and
// through common/table/ the CMake targets, the graders and bash's names).
// Adding a lab is its own files plus one line of `lab_table` below.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nslab {

// The isolation layers, numbered by the lab that teaches them. The order the
// kernel needs them in is the orchestrator's business (container.cpp), not
// this numbering: the user namespace is taught fifth but created first.
enum class Layer : int {
    pid = 1,
    mount = 2,
    uts = 3,
    net = 4,
    user = 5,
    cgroup = 6,
    time = 7,
    ipc = 8,
    image = 10,
    confine = 11
};

// Which layers a lab's executable has: one bit per Layer.
class LayerSet {
  public:
    constexpr LayerSet() = default;
    constexpr LayerSet(Layer layer) : bits_(bit(layer)) {}  // NOLINT: a set of one
    // Every layer numbered up to `last`: what a build lab has of the labs before it.
    static constexpr LayerSet through(Layer last) {
        LayerSet set;
        for (int n = 1; n <= static_cast<int>(last); ++n) set.bits_ |= bit(static_cast<Layer>(n));
        return set;
    }
    constexpr LayerSet operator|(LayerSet other) const {
        LayerSet set;
        set.bits_ = bits_ | other.bits_;
        return set;
    }
    constexpr bool contains(Layer layer) const { return (bits_ & bit(layer)) != 0; }
    constexpr bool empty() const { return bits_ == 0; }

  private:
    static constexpr std::uint32_t bit(Layer layer) {
        return std::uint32_t{1} << static_cast<int>(layer);
    }
    std::uint32_t bits_ = 0;
};

enum class LabKind {
    inspect,  // looks at processes, makes nothing (lab 00)
    build,    // builds a container from its layers (labs 01-08, 10, 11)
    join,     // joins a running container (lab 09)
    runtime,  // an OCI runtime: its own command line (create, start, ...), and the
              // containers it makes from a bundle have `layers` (lab 12)
};

struct Lab {
    int number;
    std::string_view name;  // labNN_<name>: executable, handout, layer file <name>.cpp,
                            // grader <name>_claims.cpp
    LabKind kind;
    std::optional<Layer> layer;  // the layer it teaches (build labs)
    LayerSet layers;             // the layers its executable has: its own and earlier ones
    std::string_view options;    // the options it brings, space-separated (cli.cpp defines them)
    std::string_view summary;    // the first line of its --help
};

inline constexpr Lab lab_table[] = {
    {0,
     "process",
     LabKind::inspect,
     {},
     {},
     "",
     "Show a process's identity and namespaces, as /proc shows them."},
    {1, "pid", LabKind::build, Layer::pid, LayerSet::through(Layer::pid), "timings pid-file init",
     "Run COMMAND in a new PID namespace."},
    {2, "mount", LabKind::build, Layer::mount, LayerSet::through(Layer::mount),
     "rootfs rootfs-writable tmpfs-size",
     "Run COMMAND in new PID and mount namespaces, on its own root filesystem."},
    {3, "uts", LabKind::build, Layer::uts, LayerSet::through(Layer::uts), "hostname domainname",
     "Run COMMAND in new PID, mount and UTS namespaces."},
    {4, "net", LabKind::build, Layer::net, LayerSet::through(Layer::net), "net ip publish dns",
     "Run COMMAND in new PID, mount, UTS and network namespaces."},
    {5, "user", LabKind::build, Layer::user, LayerSet::through(Layer::user),
     "userns uid-map gid-map",
     "Run COMMAND in new PID, mount, UTS, network and (with --userns) user namespaces."},
    {6, "cgroup", LabKind::build, Layer::cgroup, LayerSet::through(Layer::cgroup),
     "memory pids cpus", "Run COMMAND in namespaces and a cgroup with limits."},
    {7, "time", LabKind::build, Layer::time, LayerSet::through(Layer::time),
     "monotonic-offset boottime-offset",
     "Run COMMAND in namespaces, a cgroup and a time namespace."},
    {8, "ipc", LabKind::build, Layer::ipc, LayerSet::through(Layer::ipc), "",
     "Run COMMAND in every namespace type: a small container runtime."},
    {9,
     "exec",
     LabKind::join,
     {},
     {},
     "pid pid-file",
     "Run COMMAND inside a running container (setns), like docker exec."},
    {10, "image", LabKind::build, Layer::image, LayerSet::through(Layer::ipc) | Layer::image,
     "layer keep-changes image",
     "Run COMMAND in every namespace type, on a copy-on-write root made of image layers."},
    {11, "confine", LabKind::build, Layer::confine,
     LayerSet::through(Layer::ipc) | Layer::image | Layer::confine,
     "cap-add cap-drop no-new-privs seccomp",
     "Run COMMAND confined: Docker's capabilities, no_new_privs, seccomp, masked paths."},
    {12,
     "oci",
     LabKind::runtime,
     {},
     LayerSet(Layer::pid) | Layer::mount | Layer::uts | Layer::net | Layer::user | Layer::cgroup |
         Layer::ipc | Layer::confine,
     "",
     "An OCI runtime: create, start, state, kill and delete containers from bundles."},
};

// What the orchestrator and the build rely on: numbers in order, and every
// build lab has its own layer and the PID namespace (pid::clone_child); a
// runtime lab teaches no layer but builds with the PID namespace too.
constexpr bool table_is_sound() {
    int previous = -1;
    for (const Lab& lab : lab_table) {
        if (lab.number <= previous) return false;
        previous = lab.number;
        const bool builds = lab.kind == LabKind::build;
        const bool has_layers = builds || lab.kind == LabKind::runtime;
        if (builds != lab.layer.has_value() || has_layers == lab.layers.empty()) return false;
        if (builds && !lab.layers.contains(*lab.layer)) return false;
        if (has_layers && !lab.layers.contains(Layer::pid)) return false;
    }
    return true;
}
static_assert(table_is_sound(), "lab_table: see table_is_sound()");

// The lab numbered `number`, or nullptr.
constexpr const Lab* find_lab(int number) {
    for (const Lab& lab : lab_table)
        if (lab.number == number) return &lab;
    return nullptr;
}

// Whether lab `number` has `layer` (no such lab: no layers).
constexpr bool lab_has(int number, Layer layer) {
    const Lab* lab = find_lab(number);
    return lab && lab->layers.contains(layer);
}

// Whether `lab` takes the options `owner` brings: its own, and those of every
// build lab whose layer it has (a runtime lab's bundle says what they say).
constexpr bool takes_options_of(const Lab& lab, const Lab& owner) {
    if (&lab == &owner) return true;
    return lab.kind == LabKind::build && owner.kind == LabKind::build && owner.layer &&
           lab.layers.contains(*owner.layer);
}

// "lab01_pid" for lab 1.
inline std::string lab_program_name(const Lab& lab) {
    std::string number = std::to_string(lab.number);
    if (number.size() < 2) number.insert(0, "0");
    return "lab" + number + "_" + std::string(lab.name);
}

}  // namespace nslab

// Lab 12's state directories (ROOT/ID/) that no live runtime will finish:
// a `create` SIGKILLed before it wrote state.json (unfinished), and a
// container whose process has ended (stopped). `delete --force` and `nslab
// cleanup` remove them with this; it uses none of the student's layer code,
// so the tool can link it.
//
// `create` records, right after the mkdir(2) that locks the id and before
// it makes anything, who makes the directory (net::owner_record) and the
// cgroup its container will get: a directory without state.json whose
// creator is gone is unfinished, and the cgroup is what its container left
// (a create killed after the container cleared its parent-death signal
// leaves that process waiting on the exec FIFO, in that cgroup).
#pragma once

#include <string>
#include <vector>

namespace nslab::oci_leftovers {

// The files a state directory may hold (layers/oci.hpp, oci_main.cpp).
inline constexpr const char* state_file = "state.json";
inline constexpr const char* fifo_file = "exec.fifo";
inline constexpr const char* config_file = "config.json";

// A file that must not exist yet, written whole (mode 0600).
void write_new_file(const std::string& path, const std::string& text);
// A file written beside (PATH.new), then renamed: whole or not at all.
void write_whole(const std::string& path, const std::string& text);

// create's record, in directory `dir` just made: our owner record, then
// `cgroup` (cgroupfs::container_path of the container to come).
void record_creator(const std::string& dir, const std::string& cgroup);

enum class Kind {
    missing,        // no such directory
    being_created,  // no state.json, and its create runs
    unfinished,     // no state.json, and its create is gone
    container,      // state.json: a container, whose process the caller judges
};
// Judged in an order no create can race: the creator first (once gone it
// writes nothing more), state.json after.
Kind judge(const std::string& dir);

// Removes an unfinished directory: its cgroup (every process in it killed),
// the cgroup's hand-over record, its files and itself. False when it turned
// out to be being created (a creator between its mkdir and its record).
bool remove_unfinished(const std::string& dir);

// Removes a state directory's files and the directory (ENOENT is fine).
void remove_dir(const std::string& dir);

// `nslab cleanup`: under `root` (oci_state::default_root), removes the
// unfinished directories and those of stopped containers (with their
// cgroups and hand-over records, as `delete` removes them) and keeps
// (`kept`, one line each) those whose create or process runs.
struct Swept {
    std::vector<std::string> removed, kept;
};
Swept cleanup_stale(const std::string& root, std::vector<std::string>* errors);

}  // namespace nslab::oci_leftovers

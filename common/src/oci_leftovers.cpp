#include "nslab/oci_leftovers.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <stdexcept>

#include "nslab/cgroupfs.hpp"
#include "nslab/net_host.hpp"
#include "nslab/oci_state.hpp"
#include "nslab/sys.hpp"

namespace nslab::oci_leftovers {

namespace {

constexpr const char* owner_file = "owner";    // net::owner_record of the create
constexpr const char* cgroup_file = "cgroup";  // the cgroup its container gets

// The creator's record: "owner", or "owner.new" when it was killed (or is)
// between writing and renaming it; "" while neither is whole.
std::string creator_record(const std::string& dir) {
    for (const std::string& name : {dir + "/" + owner_file, dir + "/" + owner_file + ".new"}) {
        try {
            const std::string record = sys::read_file(name);
            if (record.find('\n') != std::string::npos) return record;
        } catch (const std::system_error&) {}
    }
    return {};
}

// The container's cgroup with every process in it, as `delete` leaves
// none, and the record that handed it over.
void remove_cgroup(const std::string& path) {
    cgroupfs::remove(cgroupfs::host(), path);
    cgroupfs::release_hand_over(path);
}

}  // namespace

void write_new_file(const std::string& path, const std::string& text) {
    Fd file = sys::open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    const ssize_t written =
        sys::check(::write(file.get(), text.data(), text.size()), "write(" + path + ")");
    if (static_cast<size_t>(written) != text.size())
        throw std::runtime_error("write(" + path + "): short write");
}

void write_whole(const std::string& path, const std::string& text) {
    const std::string temporary = path + ".new";
    write_new_file(temporary, text);
    sys::check(::rename(temporary.c_str(), path.c_str()), "rename(" + path + ")");
}

void record_creator(const std::string& dir, const std::string& cgroup) {
    write_whole(dir + "/" + owner_file, net::owner_record(::getpid()));
    write_whole(dir + "/" + cgroup_file, cgroup + "\n");
}

Kind judge(const std::string& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return Kind::missing;
    const bool creating = net::owner_alive(creator_record(dir));
    // Its creator first: once gone, it writes no state.json any more.
    if (sys::exists(dir + "/" + state_file)) return Kind::container;
    return creating ? Kind::being_created : Kind::unfinished;
}

bool remove_unfinished(const std::string& dir) {
    const std::string record = creator_record(dir);
    if (record.empty()) {
        // A create killed between its mkdir and its record, or one there
        // now: then only its part-written record goes, and its rename
        // fails (ENOENT), a clean failure of that create; a record renamed
        // meanwhile keeps the directory (ENOTEMPTY).
        ::unlink((dir + "/" + owner_file + ".new").c_str());
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
        if (errno == ENOTEMPTY || errno == EEXIST) return false;
        sys::fail("rmdir(" + dir + ")");
    }
    if (net::owner_alive(record)) return false;
    std::string cgroup;
    try {
        cgroup = sys::read_value(dir + "/" + cgroup_file);
    } catch (const std::system_error&) {}  // killed before it: no cgroup was made
    if (!cgroup.empty()) remove_cgroup(cgroup);
    remove_dir(dir);
    return true;
}

void remove_dir(const std::string& dir) {
    for (const char* name : {state_file, fifo_file, config_file, owner_file, cgroup_file})
        for (const std::string& file : {dir + "/" + name, dir + "/" + name + ".new"})
            if (::unlink(file.c_str()) != 0 && errno != ENOENT) sys::fail("unlink(" + file + ")");
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) sys::fail("rmdir(" + dir + ")");
}

Swept cleanup_stale(const std::string& root, std::vector<std::string>* errors) {
    namespace fs = std::filesystem;
    Swept swept;
    std::error_code none;
    for (const auto& entry : fs::directory_iterator(root, none)) {
        const std::string dir = entry.path().string();
        try {
            switch (judge(dir)) {
                case Kind::missing:  // not a directory, or deleted meanwhile
                    break;
                case Kind::being_created:
                    swept.kept.push_back("kept lab 12 state directory " + dir +
                                         " (its create runs)");
                    break;
                case Kind::unfinished:
                    if (remove_unfinished(dir))
                        swept.removed.push_back("removed lab 12 state directory " + dir +
                                                " (its create was killed before it finished)");
                    else
                        swept.kept.push_back("kept lab 12 state directory " + dir +
                                             " (its create runs)");
                    break;
                case Kind::container: {
                    const std::string path = dir + "/" + state_file;
                    const oci_state::Saved saved = oci_state::from_json(sys::read_file(path), path);
                    if (net::start_time_of(saved.pid) == saved.start_time) {
                        swept.kept.push_back("kept lab 12 container " + dir + " (its process " +
                                             std::to_string(saved.pid) + " runs)");
                        break;
                    }
                    if (!saved.cgroup.empty()) remove_cgroup(saved.cgroup);
                    remove_dir(dir);
                    swept.removed.push_back(
                        "removed stopped lab 12 container " + dir +
                        (saved.cgroup.empty() ? "" : " and cgroup " + saved.cgroup));
                    break;
                }
            }
        } catch (const std::exception& e) {
            // Gone meanwhile: its own `delete` was first.
            if (errors && sys::exists(dir)) errors->push_back(dir + ": " + e.what());
        }
    }
    return swept;
}

}  // namespace nslab::oci_leftovers

#include "nslab/observe.hpp"

#include <sys/stat.h>

#include <cerrno>

#include "nslab/procfs.hpp"
#include "nslab/sys.hpp"

namespace nslab::observe {

Status parse_status(std::string_view text) {
    auto fields = procfs::parse_status(text);
    Status status;
    status.name = fields["Name"];
    status.state = fields["State"].empty() ? '?' : fields["State"].front();
    status.ppid = static_cast<pid_t>(std::stol("0" + fields["PPid"]));
    status.nspid = procfs::parse_pid_list(fields["NSpid"]);
    auto uids = procfs::parse_pid_list(fields["Uid"]);
    status.uid = uids.empty() ? 0 : static_cast<uid_t>(uids.front());
    return status;
}

Status status(pid_t pid) {
    return parse_status(sys::read_file("/proc/" + std::to_string(pid) + "/status"));
}

std::optional<ino_t> namespace_inode(pid_t pid, std::string_view type) {
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + std::string(type);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return st.st_ino;
    if (errno == ENOENT && sys::exists("/proc/" + std::to_string(pid))) return std::nullopt;
    sys::fail("stat(" + path + ")");
}

}  // namespace nslab::observe

#include "nslab/procfs.hpp"

#include <dirent.h>

#include <charconv>
#include <sstream>

#include "nslab/sys.hpp"

namespace nslab::procfs {

std::map<std::string, std::string> parse_status(std::string_view text) {
    std::map<std::string, std::string> fields;
    while (!text.empty()) {
        size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.remove_prefix(1);
        fields.emplace(std::string(line.substr(0, colon)), std::string(value));
    }
    return fields;
}

std::vector<pid_t> parse_pid_list(std::string_view text) {
    std::vector<pid_t> pids;
    std::istringstream in{std::string(text)};
    for (pid_t pid; in >> pid;) pids.push_back(pid);
    return pids;
}

std::vector<pid_t> children(pid_t pid) {
    std::vector<pid_t> result;
    std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* dir = ::opendir(task_dir.c_str());
    if (!dir) return result;
    while (dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        try {
            auto more =
                parse_pid_list(sys::read_file(task_dir + "/" + entry->d_name + "/children"));
            result.insert(result.end(), more.begin(), more.end());
        } catch (const std::system_error&) {
            // The thread ended while we looked.
        }
    }
    ::closedir(dir);
    return result;
}

std::vector<pid_t> all_pids() {
    std::vector<pid_t> pids;
    DIR* dir = ::opendir("/proc");
    if (!dir) sys::fail("opendir(/proc)");
    while (dirent* entry = ::readdir(dir)) {
        pid_t pid = 0;
        std::string_view name = entry->d_name;
        auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
        if (ec == std::errc() && end == name.data() + name.size()) pids.push_back(pid);
    }
    ::closedir(dir);
    return pids;
}

std::optional<Stat> parse_stat(std::string_view text) {
    const size_t close = text.rfind(')');
    if (close == std::string_view::npos || text.find('(') > close) return std::nullopt;
    std::istringstream rest{std::string(text.substr(close + 1))};
    std::string field;
    Stat stat;
    // Field 3 is the state; field 22 the start time.
    for (int number = 3; number <= 22 && rest >> field; ++number) {
        if (number == 3) {
            if (field.size() != 1) return std::nullopt;
            stat.state = field[0];
        }
        if (number == 22) {
            auto [end, error] =
                std::from_chars(field.data(), field.data() + field.size(), stat.start_time);
            if (error != std::errc() || end != field.data() + field.size()) return std::nullopt;
            return stat;
        }
    }
    return std::nullopt;
}

}  // namespace nslab::procfs

#include "nslab/image_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "nslab/fd.hpp"
#include "nslab/idmap.hpp"
#include "nslab/net_host.hpp"
#include "nslab/sys.hpp"

namespace nslab::image_store {

namespace {

namespace fs = std::filesystem;

// The host uid and gid the container's root is (itself without --userns).
std::pair<uid_t, gid_t> root_of(const Config& cfg) {
    if (!cfg.makes_userns()) return {::geteuid(), ::getegid()};
    const idmap::Plan maps = idmap::plan(cfg);
    auto outside_of_zero = [](const std::string& text, unsigned fallback) {
        std::istringstream lines(text);
        unsigned inside = 0, outside = 0, count = 0;
        while (lines >> inside >> outside >> count)
            if (inside == 0) return outside;
        return fallback;
    };
    return {outside_of_zero(maps.uid_map, ::geteuid()), outside_of_zero(maps.gid_map, ::getegid())};
}

// A container's directory, whatever is in it. overlayfs leaves work/work at
// mode 000, which a rootless owner may not list: it is opened up first.
void remove_all(const std::string& path) noexcept {
    ::chmod((path + "/work/work").c_str(), 0700);
    std::error_code ignored;
    fs::remove_all(path, ignored);
}

}  // namespace

void make_own_root(const std::string& root) {
    const std::string base = fs::path(root).parent_path().string();
    if (::mkdir(base.c_str(), 0700) != 0 && errno != EEXIST) sys::fail("mkdir(" + base + ")");
    struct stat st {};
    sys::check(::lstat(base.c_str(), &st), "lstat(" + base + ")");
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
        throw std::runtime_error(base +
                                 " is not a directory of yours that only you may use; "
                                 "remove it, or run as root");
    sys::mkdir(root, 0700);
}

std::string state_root_for(uid_t euid) {
    if (euid == 0) return state_root;
    return "/tmp/nslab-" + std::to_string(euid) + "/containers";
}

Overlay plan(const Config& cfg) {
    Overlay overlay;
    overlay.root = state_root_for(::geteuid());
    overlay.layers.push_back(cfg.rootfs);
    overlay.layers.insert(overlay.layers.end(), cfg.layers.begin(), cfg.layers.end());
    overlay.dir = overlay.root + "/" + cfg.id;
    overlay.upper = overlay.dir + "/upper";
    overlay.work = overlay.dir + "/work";
    overlay.merged = overlay.dir + "/merged";
    return overlay;
}

void check(const Config& cfg) {
    for (const std::string& layer : cfg.layers) {
        const std::string option = "--layer " + layer;
        struct stat st {};
        if (::stat(layer.c_str(), &st) != 0)
            throw std::runtime_error(option + ": " + std::strerror(errno));
        if (!S_ISDIR(st.st_mode)) throw std::runtime_error(option + ": not a directory");
    }
    for (const std::string& layer : plan(cfg).layers)
        if (layer.find_first_of(",:\\") != std::string::npos)
            throw std::runtime_error("layer " + layer +
                                     ": a path with ',', ':' or '\\' cannot be an overlayfs layer");
    if (cfg.keep_changes.empty()) return;
    const std::string option = "--keep-changes " + cfg.keep_changes;
    struct stat st {};
    if (::lstat(cfg.keep_changes.c_str(), &st) == 0)
        throw std::runtime_error(option + ": exists already (a new layer goes to a new directory)");
    fs::path parent = fs::absolute(cfg.keep_changes).parent_path();
    struct stat where {
    }, state{};
    if (::stat(parent.c_str(), &where) != 0 || !S_ISDIR(where.st_mode))
        throw std::runtime_error(option + ": no directory " + parent.string() + " to make it in");
    const std::string root = state_root_for(::geteuid());
    const std::string existing = ::geteuid() == 0 ? "/var/lib" : "/tmp";
    sys::check(::stat(existing.c_str(), &state), "stat(" + existing + ")");
    if (where.st_dev != state.st_dev)
        throw std::runtime_error(option + ": not on the file system of " + root +
                                 ", where the upper directory is (it is renamed, not copied)");
}

Overlay prepare(const Config& cfg) {
    Overlay overlay = plan(cfg);
    if (::geteuid() == 0)
        sys::mkdir_p(overlay.root, 0711);
    else
        make_own_root(overlay.root);
    sys::mkdir_new(overlay.dir, 0700);
    ScopeGuard remove_it([&] { remove_all(overlay.dir); });
    {
        const std::string record = net::owner_record(::getpid()), path = overlay.dir + "/owner";
        Fd owner = sys::open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        sys::check(::write(owner.get(), record.data(), record.size()), "write(" + path + ")");
    }
    const auto [uid, gid] = root_of(cfg);
    for (const std::string& dir : {overlay.upper, overlay.work, overlay.merged}) {
        sys::mkdir_new(dir, 0755);
        sys::check(::chown(dir.c_str(), uid, gid), "chown(" + dir + ")");
    }
    // The container's root must reach its directories: 0711 lets it pass.
    sys::check(::chmod(overlay.dir.c_str(), 0711), "chmod(" + overlay.dir + ")");
    remove_it.dismiss();
    return overlay;
}

void after_exit(const Config& cfg, const Overlay& overlay) noexcept {
    if (overlay.dir.empty()) return;
    if (!cfg.keep_changes.empty() && ::rename(overlay.upper.c_str(), cfg.keep_changes.c_str()) != 0)
        std::fprintf(stderr, "%s: --keep-changes %s: %s\n", cfg.program.c_str(),
                     cfg.keep_changes.c_str(), std::strerror(errno));
    remove_all(overlay.dir);
    if (overlay.root != state_root) {  // a rootless caller's: gone once empty
        ::rmdir(overlay.root.c_str());
        ::rmdir(fs::path(overlay.root).parent_path().c_str());
    }
}

namespace {

void cleanup_in(const std::string& root, std::vector<std::string>& removed,
                std::vector<std::string>* errors) {
    std::error_code none;
    for (const auto& entry : fs::directory_iterator(root, none)) {
        std::string record;
        try {
            record = sys::read_file(entry.path().string() + "/owner");
        } catch (const std::system_error&) {}
        if (record.find('\n') == std::string::npos) {
            // prepare() writes the owner file right after mkdir: a directory
            // without a whole record (no file, or one not yet written) is
            // either that instant or a runtime killed in it; one gone
            // already is a runtime that ended while we looked.
            struct stat st {};
            if (::stat(entry.path().c_str(), &st) != 0 || ::time(nullptr) - st.st_mtime < 10)
                continue;
        } else if (net::owner_alive(record)) {
            continue;
        }
        ::chmod((entry.path() / "work/work").c_str(), 0700);
        std::error_code failed;
        fs::remove_all(entry.path(), failed);
        // A runtime that ends while we remove its directory removes it too:
        // what is gone is not an error.
        if (failed == std::errc::no_such_file_or_directory) continue;
        if (failed && errors)
            errors->push_back("cannot remove " + entry.path().string() + ": " + failed.message());
        else
            removed.push_back(entry.path().string());
    }
}

}  // namespace

std::vector<std::string> cleanup_stale(std::vector<std::string>* errors) {
    std::vector<std::string> removed;
    cleanup_in(state_root, removed, errors);
    std::error_code none;
    for (const auto& entry : fs::directory_iterator("/tmp", none))
        if (entry.path().filename().string().starts_with("nslab-") &&
            fs::is_directory(entry.path() / "containers", none)) {
            cleanup_in((entry.path() / "containers").string(), removed, errors);
            ::rmdir((entry.path() / "containers").c_str());
            ::rmdir(entry.path().c_str());
        }
    return removed;
}

}  // namespace nslab::image_store

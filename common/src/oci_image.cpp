#include "nslab/oci_image.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <nettle/sha2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "nslab/cgroup_plan.hpp"
#include "nslab/image_store.hpp"
#include "nslab/net_host.hpp"
#include "nslab/sys.hpp"

namespace nslab::oci {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A layer may not unpack to more than this (a gzip bomb is refused, not
// written until the disk is full). NSLAB_MAX_LAYER_BYTES may only lower it
// (the bad-input table's bomb is a few MiB, not 8 GiB of disk).
constexpr long long max_layer_bytes = 8LL << 30;

long long layer_cap() {
    const char* given = std::getenv("NSLAB_MAX_LAYER_BYTES");
    char* end = nullptr;
    const long long lower = given ? std::strtoll(given, &end, 10) : 0;
    return given && *given && *end == '\0' && lower > 0 && lower < max_layer_bytes
               ? lower
               : max_layer_bytes;
}

[[noreturn]] void refuse(const std::string& what) {
    throw std::runtime_error(what);
}

// "sha256:<64 hex digits>" -> the hex; anything else is refused (a digest
// is also a file name: nothing but hex may reach the path).
std::string hex_of(const std::string& image, const std::string& digest) {
    const std::string prefix = "sha256:";
    std::string hex = digest.rfind(prefix, 0) == 0 ? digest.substr(prefix.size()) : "";
    bool ok = hex.size() == 64;
    for (char c : hex) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!ok) refuse(image + ": '" + digest + "' is not a sha256 digest");
    return hex;
}

// "pid-start-": the prefix of an unpacker's temporary directories.
std::string own_prefix() {
    const pid_t me = ::getpid();
    return std::to_string(me) + "-" + std::to_string(net::start_time_of(me).value_or(0)) + "-";
}

void make_store(const std::string& store) {
    // Root's layers are lower directories of containers whose root is
    // another uid (--userns): each level lets others through.
    if (::geteuid() == 0)
        sys::mkdir_p(store, 0755);
    else
        image_store::make_own_root(store);
    sys::mkdir(store + "/tmp", 0700);
}

void remove_all(const std::string& path) noexcept {
    std::error_code ignored;
    fs::remove_all(path, ignored);
}

// --- writing one layer's entries below its directory ------------------

constexpr std::uint64_t beneath = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

class Unpacker {
  public:
    // skip(path): an entry not to write (the archive's blobs the store has).
    Unpacker(std::string what, const std::string& dir, const WhiteoutRule* rule,
             std::function<bool(const std::string&)> skip = {})
        : what_(std::move(what)),
          root_(sys::open(dir, O_RDONLY | O_DIRECTORY)),
          rule_(rule),
          skip_(std::move(skip)),
          form_(form_for(::geteuid())) {}

    // Every entry of the tar (or tar.gz) at `file`; then the directories'
    // modes, which a read-only directory would otherwise apply too early.
    void unpack(const std::string& file) {
        struct archive* a = archive_read_new();
        ScopeGuard free_it([&] { archive_read_free(a); });
        archive_read_support_format_tar(a);
        archive_read_support_filter_gzip(a);
        if (archive_read_open_filename(a, file.c_str(), 1 << 16) != ARCHIVE_OK)
            refuse(what_ + ": " + archive_error_string(a));
        struct archive_entry* entry = nullptr;
        for (;;) {
            int rc = archive_read_next_header(a, &entry);
            if (rc == ARCHIVE_EOF) break;
            if (rc < ARCHIVE_WARN)
                refuse(what_ + ": " +
                       (archive_error_string(a) ? archive_error_string(a) : "bad tar"));
            write_entry(a, entry);
        }
        for (auto it = dir_modes_.rbegin(); it != dir_modes_.rend(); ++it) {
            Fd dir = open_beneath(it->first, O_RDONLY | O_DIRECTORY);
            sys::check(::fchmod(dir.get(), it->second), "fchmod(" + it->first + ")");
        }
    }

  private:
    // The entry's path as a relative name with no "." or ".." in it.
    std::string clean(const char* raw, const char* which) {
        std::string path = raw ? raw : "";
        if (path.empty()) refuse(what_ + ": an entry with no " + which);
        if (path.front() == '/')
            refuse(what_ + ": entry '" + path + "' is an absolute " + which + "; refused");
        std::string out;
        size_t at = 0;
        while (at <= path.size()) {
            size_t end = path.find('/', at);
            if (end == std::string::npos) end = path.size();
            std::string part = path.substr(at, end - at);
            if (part == "..")
                refuse(what_ + ": entry '" + path + "' has '..' in its " + which + "; refused");
            if (!part.empty() && part != ".") out += (out.empty() ? "" : "/") + part;
            at = end + 1;
        }
        return out;
    }

    Fd open_beneath(const std::string& path, int flags) {
        try {
            return sys::openat2(root_, path.empty() ? "." : path, flags, beneath);
        } catch (const std::system_error& e) {
            if (e.code().value() == ELOOP || e.code().value() == EXDEV)
                refuse(what_ + ": entry '" + path +
                       "' goes through a symbolic link or out of the layer; refused");
            throw;
        }
    }

    // The entry's parent directory, made if the tar did not list it.
    Fd parent_of(const std::string& path) {
        const std::string parent = fs::path(path).parent_path().string();
        std::string so_far;
        Fd dir = open_beneath("", O_RDONLY | O_DIRECTORY);
        size_t at = 0;
        while (!parent.empty() && at <= parent.size()) {
            size_t end = parent.find('/', at);
            if (end == std::string::npos) end = parent.size();
            const std::string part = parent.substr(at, end - at);
            so_far += (so_far.empty() ? "" : "/") + part;
            if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST)
                sys::fail(what_ + ": mkdir " + so_far);
            dir = open_beneath(so_far, O_RDONLY | O_DIRECTORY);
            at = end + 1;
        }
        return dir;
    }

    // A name a new entry replaces (a later entry wins, as tar does); a
    // directory stays, the entry merges into it.
    void make_room(const Fd& dir, const std::string& name, bool for_directory) {
        struct stat st {};
        if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
        if (S_ISDIR(st.st_mode) && for_directory) return;
        if (S_ISDIR(st.st_mode)) {
            std::error_code failed;
            fs::remove_all(fs::read_symlink("/proc/self/fd/" + std::to_string(dir.get())) / name,
                           failed);
            if (failed) refuse(what_ + ": cannot replace directory " + name);
            return;
        }
        sys::check(::unlinkat(dir.get(), name.c_str(), 0), what_ + ": unlink " + name);
    }

    void count(long long bytes, const std::string& path) {
        written_ += bytes;
        if (written_ > cap_)
            refuse(what_ + ": unpacks to more than " +
                   cgroupfs::human_bytes(static_cast<std::uint64_t>(cap_)) + " (at '" + path +
                   "'), the cap of one layer; refused");
    }

    void write_entry(struct archive* a, struct archive_entry* entry) {
        const std::string path = clean(archive_entry_pathname(entry), "path");
        if (path.empty() || (skip_ && skip_(path))) return;  // "./": the layer's own directory
        const std::string name = fs::path(path).filename().string();
        Fd dir = parent_of(path);
        if (rule_ && (*rule_)(dir, name, form_)) return;
        const mode_t type = archive_entry_filetype(entry);
        const mode_t mode = archive_entry_perm(entry);
        const char* hardlink = archive_entry_hardlink(entry);
        make_room(dir, name, type == AE_IFDIR && !hardlink);
        const std::string at = what_ + ": entry '" + path + "'";
        if (hardlink) {
            const std::string target = clean(hardlink, "link target");
            Fd target_dir =
                open_beneath(fs::path(target).parent_path().string(), O_RDONLY | O_DIRECTORY);
            const std::string target_name = fs::path(target).filename().string();
            struct stat st {};
            if (::fstatat(target_dir.get(), target_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                refuse(at + " links to '" + target + "', which the layer does not have");
            sys::check(::linkat(target_dir.get(), target_name.c_str(), dir.get(), name.c_str(), 0),
                       at + ": link");
            return;
        }
        Fd file;  // a regular file: its mode is set after its owner (chown clears setuid)
        switch (type) {
            case AE_IFDIR:
                if (::mkdirat(dir.get(), name.c_str(), 0700) != 0 && errno != EEXIST)
                    sys::fail(at + ": mkdir");
                dir_modes_.emplace_back(path, mode);
                break;
            case AE_IFREG: {
                file = Fd(
                    sys::check(::openat(dir.get(), name.c_str(),
                                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600),
                               at + ": create"));
                const void* block = nullptr;
                size_t size = 0;
                la_int64_t offset = 0;
                int rc = ARCHIVE_OK;
                while ((rc = archive_read_data_block(a, &block, &size, &offset)) == ARCHIVE_OK) {
                    count(static_cast<long long>(size), path);
                    const char* data = static_cast<const char*>(block);
                    while (size > 0) {
                        ssize_t n = ::pwrite(file.get(), data, size, offset);
                        if (n < 0 && errno == EINTR) continue;
                        sys::check(n, at + ": write");
                        data += n, offset += n, size -= static_cast<size_t>(n);
                    }
                }
                if (rc != ARCHIVE_EOF)
                    refuse(at + ": " +
                           (archive_error_string(a) ? archive_error_string(a) : "bad data"));
                sys::check(::ftruncate(file.get(), archive_entry_size(entry)), at + ": truncate");
                break;
            }
            case AE_IFLNK: {
                // Its target is read in the container's root, never here:
                // nothing in this file follows a symbolic link.
                const char* target = archive_entry_symlink(entry);
                sys::check(::symlinkat(target ? target : "", dir.get(), name.c_str()),
                           at + ": symlink");
                break;
            }
            case AE_IFIFO:
                sys::check(::mknodat(dir.get(), name.c_str(), S_IFIFO | mode, 0), at + ": mkfifo");
                break;
            case AE_IFCHR:
            case AE_IFBLK:
                refuse(at + " is a device node; refused");
            default:
                return;  // a socket: nothing to unpack
        }
        // Owners as the tar says, when we may give files away (root).
        if (::geteuid() == 0)
            sys::check(::fchownat(dir.get(), name.c_str(), archive_entry_uid(entry),
                                  archive_entry_gid(entry), AT_SYMLINK_NOFOLLOW),
                       at + ": chown");
        if (file) sys::check(::fchmod(file.get(), mode), at + ": chmod");
        if (type != AE_IFDIR) {
            timespec times[2] = {{archive_entry_mtime(entry), 0}, {archive_entry_mtime(entry), 0}};
            ::utimensat(dir.get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW);
        }
    }

    std::string what_;
    Fd root_;
    const WhiteoutRule* rule_;
    std::function<bool(const std::string&)> skip_;
    WhiteoutForm form_;
    long long written_ = 0;
    const long long cap_ = layer_cap();
    std::vector<std::pair<std::string, mode_t>> dir_modes_;
};

// --- the layout --------------------------------------------------------

class Layout {
  public:
    Layout(std::string image, std::string dir) : image_(std::move(image)), dir_(std::move(dir)) {}

    std::string blob_path(const std::string& digest) const {
        return dir_ + "/blobs/sha256/" + hex_of(image_, digest);
    }

    // A blob, its sha256 checked; `what` it is (a layer, the config...).
    std::string checked_blob(const std::string& digest, const std::string& what) const {
        const std::string path = blob_path(digest);
        if (!sys::exists(path)) refuse(image_ + ": " + what + " " + digest + " is missing");
        if (sha256_of_file(path) != hex_of(image_, digest))
            refuse(image_ + ": " + what + " " + digest + " does not match its digest; refused");
        return path;
    }

    json checked_json(const std::string& digest, const char* what) const {
        try {
            return json::parse(sys::read_file(checked_blob(digest, what)));
        } catch (const json::exception&) {
            refuse(image_ + ": the " + std::string(what) + " " + digest + " is not JSON");
        }
    }

    json index() const {
        if (!sys::exists(dir_ + "/oci-layout") || !sys::exists(dir_ + "/index.json"))
            refuse(image_ + ": not an OCI image layout (no oci-layout or index.json)");
        try {
            return json::parse(sys::read_file(dir_ + "/index.json"));
        } catch (const json::exception&) {
            refuse(image_ + ": index.json is not JSON");
        }
    }

  private:
    std::string image_, dir_;
};

std::vector<std::string> strings_of(const json& config, const char* key) {
    std::vector<std::string> out;
    if (config.contains(key) && config[key].is_array())
        for (const auto& item : config[key])
            if (item.is_string()) out.push_back(item.get<std::string>());
    return out;
}

// Extracts the oci-archive `file` into `dir` with the same safe writer,
// leaving out the blobs of layers the store has unpacked already.
void extract_archive(const std::string& file, const std::string& dir, const std::string& layers) {
    Unpacker extract(file, dir, nullptr, [&](const std::string& path) {
        const std::string blobs = "blobs/sha256/";
        return path.rfind(blobs, 0) == 0 && sys::exists(layers + "/" + path.substr(blobs.size()));
    });
    extract.unpack(file);
}

// What `rule` makes of each kind of entry, as a short hex name. The store
// keeps the layers each rule unpacked apart: a layer is the tar's entries
// as the rule turned them into overlayfs marks, so a rule that changes (a
// student's fix) must not find the layers of the old one. The rule runs on
// a probe directory with one entry of each kind: an opaque marker, a
// whiteout marker, an ordinary name; what it returned and made there (each
// name's type, device, size and xattrs) is hashed.
std::string fingerprint(const WhiteoutRule& rule, const std::string& probe) {
    remove_all(probe);
    sys::mkdir_new(probe, 0700);
    ScopeGuard remove_probe([&] { remove_all(probe); });
    const WhiteoutForm form = form_for(::geteuid());
    std::string seen;
    {
        Fd dir = sys::open(probe, O_RDONLY | O_DIRECTORY);
        for (const char* name : {".wh..wh..opq", ".wh.probe", "probe"})
            seen += std::string(name) + (rule(dir, name, form) ? "=1 " : "=0 ");
    }
    auto xattrs_of = [](const std::string& path) {
        std::string out;
        char names[4096];
        ssize_t n = ::llistxattr(path.c_str(), names, sizeof names);
        std::vector<std::string> sorted;
        for (ssize_t at = 0; at < n; at += static_cast<ssize_t>(std::strlen(names + at)) + 1)
            sorted.emplace_back(names + at);
        std::sort(sorted.begin(), sorted.end());
        for (const std::string& name : sorted) {
            char value[256];
            ssize_t size = ::lgetxattr(path.c_str(), name.c_str(), value, sizeof value);
            out += name + "=" + std::string(value, size > 0 ? static_cast<size_t>(size) : 0) + ";";
        }
        return out;
    };
    seen += "dir:" + xattrs_of(probe);
    std::vector<std::string> names;
    std::error_code none;
    for (const auto& entry : fs::directory_iterator(probe, none))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
        struct stat st {};
        ::lstat((probe + "/" + name).c_str(), &st);
        seen += " " + name + ":" + std::to_string(st.st_mode & S_IFMT) + ":" +
                std::to_string(st.st_rdev) + ":" + std::to_string(st.st_size) + ":" +
                xattrs_of(probe + "/" + name);
    }
    Sha256 sha;
    sha.update(seen.data(), seen.size());
    return sha.hex().substr(0, 16);
}

}  // namespace

struct Sha256::Context {
    sha256_ctx ctx;
};

Sha256::Sha256() : ctx_(new Context) {
    sha256_init(&ctx_->ctx);
}

Sha256::~Sha256() {
    delete ctx_;
}

void Sha256::update(const void* data, size_t size) {
    sha256_update(&ctx_->ctx, size, static_cast<const unsigned char*>(data));
}

std::string Sha256::hex() {
    unsigned char digest[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx_->ctx, sizeof digest, digest);
    std::string hex;
    char two[3];
    for (unsigned char byte : digest) {
        std::snprintf(two, sizeof two, "%02x", byte);
        hex += two;
    }
    return hex;
}

std::string sha256_of_file(const std::string& path) {
    Fd fd = sys::open(path, O_RDONLY | O_NOFOLLOW);
    Sha256 sha;
    std::vector<unsigned char> buffer(1 << 16);
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) sys::fail("read(" + path + ")");
        if (n == 0) break;
        sha.update(buffer.data(), static_cast<size_t>(n));
    }
    return sha.hex();
}

std::string resolve_image(const std::string& given) {
    if (given.find('/') != std::string::npos || sys::exists(given)) return given;
    const std::string named = std::string(images_root) + "/" + given;
    if (given != "." && given != ".." && sys::exists(named + "/index.json")) return named;
    return given;
}

std::string store_for(uid_t euid) {
    if (euid == 0) return store_root;
    return "/tmp/nslab-" + std::to_string(euid) + "/layers";
}

// Whether the file system of `store` keeps user.* extended attributes: tmpfs
// does only since Linux 6.6 (Debian 12's 6.1 refuses them, EOPNOTSUPP), and
// a store may be on one (a tmpfs /tmp, tests/vm's guest). Asked once.
static bool keeps_user_xattrs(const std::string& store) {
    static const bool keeps = [&] {
        const std::string probe = store + "/tmp/" + own_prefix() + "xattr-probe";
        Fd fd(::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!fd) return true;  // no store to ask yet: its own steps say why
        ::unlink(probe.c_str());
        return ::fsetxattr(fd.get(), "user.nslab.probe", "x", 1, 0) == 0 || errno != EOPNOTSUPP;
    }();
    return keeps;
}

WhiteoutForm form_for(uid_t euid) {
    const std::string store = store_for(euid);
    const bool user = keeps_user_xattrs(store);
    if (euid == 0) {
        // Without user.* marks, root's layers serve only containers without
        // --userns (their overlay reads trusted.overlay.*).
        if (user) return {true, {"trusted.overlay.", "user.overlay."}};
        return {true, {"trusted.overlay."}};
    }
    if (!user)
        refuse("the layer store " + store +
               " is on a file system that keeps no user.* extended attributes (tmpfs before "
               "Linux 6.6), and a user's whiteouts are user.overlay.* attributes: run as root, "
               "or keep /tmp on a disk");
    return {false, {"user.overlay."}};
}

Image load(const std::string& path, const WhiteoutRule& rule) {
    const std::string image = "--image " + path;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) refuse(image + ": " + std::strerror(errno));
    const std::string store = store_for(::geteuid());
    make_store(store);
    const std::string prefix = store + "/tmp/" + own_prefix();
    // This rule's layers: <store>/<what it makes of whiteouts>/sha256/<hex>.
    const std::string layers = store + "/" + fingerprint(rule, prefix + "probe") + "/sha256";
    sys::mkdir_p(layers, ::geteuid() == 0 ? 0755 : 0700);
    std::string layout_dir = path;
    std::string extracted;
    ScopeGuard remove_extracted([&] {
        if (!extracted.empty()) remove_all(extracted);
    });
    if (S_ISREG(st.st_mode)) {  // an oci-archive: its layout, in a directory of ours
        extracted = prefix + "archive";
        remove_all(extracted);
        sys::mkdir_new(extracted, 0700);
        extract_archive(path, extracted, layers);
        layout_dir = extracted;
    } else if (!S_ISDIR(st.st_mode)) {
        refuse(image + ": neither an image layout directory nor an oci-archive file");
    }
    Layout layout(image, layout_dir);
    const json index = layout.index();
    if (!index.contains("manifests") || !index["manifests"].is_array() ||
        index["manifests"].empty() || !index["manifests"][0].contains("digest"))
        refuse(image + ": index.json names no manifest");
    const json manifest =
        layout.checked_json(index["manifests"][0]["digest"].get<std::string>(), "manifest");
    if (!manifest.contains("config") || !manifest.contains("layers") ||
        !manifest["layers"].is_array())
        refuse(image + ": the manifest has no config or no layers (an index of images?)");
    const json config =
        layout.checked_json(manifest["config"].value("digest", std::string()), "config");

    Image result;
    const json settings = config.value("config", json::object());
    if (settings.is_object()) {
        result.settings.env = strings_of(settings, "Env");
        result.settings.entrypoint = strings_of(settings, "Entrypoint");
        result.settings.cmd = strings_of(settings, "Cmd");
        if (settings.contains("WorkingDir") && settings["WorkingDir"].is_string())
            result.settings.working_dir = settings["WorkingDir"].get<std::string>();
        if (settings.contains("User") && settings["User"].is_string())
            result.settings.user = settings["User"].get<std::string>();
    }
    for (const auto& layer : manifest["layers"]) {
        const std::string digest = layer.value("digest", std::string());
        const std::string type = layer.value("mediaType", std::string());
        const std::string hex = hex_of(image, digest);
        const std::string done = layers + "/" + hex;
        result.layers.push_back(done);
        if (sys::exists(done)) continue;  // unpacked once already: content-addressed
        if (type.find("zstd") != std::string::npos || type.find("tar") == std::string::npos)
            refuse(image + ": layer " + digest + " is of type '" + type +
                   "' (a tar or a tar+gzip is what this runtime unpacks)");
        const auto start = std::chrono::steady_clock::now();
        const std::string blob = layout.checked_blob(digest, "layer");
        const std::string temporary = prefix + hex;
        remove_all(temporary);
        sys::mkdir_new(temporary, 0755);
        ScopeGuard remove_temporary([&] { remove_all(temporary); });
        Unpacker("layer " + digest, temporary, &rule).unpack(blob);
        // Another runtime may have unpacked the same layer meanwhile: its
        // copy is as good as ours.
        if (::rename(temporary.c_str(), done.c_str()) != 0 && errno != EEXIST && errno != ENOTEMPTY)
            sys::fail("rename(" + temporary + ", " + done + ")");
        result.unpacked_ms += std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count();
        ++result.layers_unpacked;
    }
    if (result.layers.empty()) refuse(image + ": the manifest lists no layer");
    return result;
}

std::vector<std::string> command_of(const Settings& settings,
                                    const std::vector<std::string>& command) {
    std::vector<std::string> argv = settings.entrypoint;
    const auto& rest = command.empty() ? settings.cmd : command;
    argv.insert(argv.end(), rest.begin(), rest.end());
    return argv;
}

namespace {

// The line of `table` (passwd or group) whose first field is `name`, or
// whose third is the number `name`: its fields.
std::vector<std::string> entry_of(const std::string& table, const std::string& name) {
    std::istringstream lines(table);
    for (std::string line; std::getline(lines, line);) {
        std::vector<std::string> fields;
        std::istringstream parts(line);
        for (std::string field; std::getline(parts, field, ':');) fields.push_back(field);
        if (fields.size() >= 3 && (fields[0] == name || fields[2] == name)) return fields;
    }
    return {};
}

std::optional<unsigned long> number_of(const std::string& text) {
    if (text.empty() || text.size() > 10 ||
        text.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return std::stoul(text);
}

}  // namespace

std::pair<uid_t, gid_t> resolve_user(const std::string& user, const std::string& passwd,
                                     const std::string& group) {
    const size_t colon = user.find(':');
    const std::string who = user.substr(0, colon);
    const std::string of_group = colon == std::string::npos ? "" : user.substr(colon + 1);
    const std::string what = "the image's User '" + user + "'";
    uid_t uid = 0;
    gid_t gid = 0;
    const std::vector<std::string> line = entry_of(passwd, who);
    if (auto number = number_of(who)) {
        uid = static_cast<uid_t>(*number);
        if (line.size() >= 4 && number_of(line[3])) gid = static_cast<gid_t>(*number_of(line[3]));
    } else if (line.size() >= 4 && number_of(line[2]) && number_of(line[3])) {
        uid = static_cast<uid_t>(*number_of(line[2]));
        gid = static_cast<gid_t>(*number_of(line[3]));
    } else {
        refuse(what + ": no user '" + who + "' in the image's /etc/passwd");
    }
    if (of_group.empty()) return {uid, gid};
    if (auto number = number_of(of_group)) return {uid, static_cast<gid_t>(*number)};
    const std::vector<std::string> group_line = entry_of(group, of_group);
    if (group_line.size() < 3 || group_line[0] != of_group || !number_of(group_line[2]))
        refuse(what + ": no group '" + of_group + "' in the image's /etc/group");
    return {uid, static_cast<gid_t>(*number_of(group_line[2]))};
}

std::vector<std::string> cleanup_stale(std::vector<std::string>* errors) {
    std::vector<std::string> removed;
    std::vector<std::string> stores = {std::string(store_root) + "/tmp"};
    std::error_code none;
    for (const auto& entry : fs::directory_iterator("/tmp", none))
        if (entry.path().filename().string().starts_with("nslab-"))
            stores.push_back((entry.path() / "layers/tmp").string());
    for (const std::string& tmp : stores)
        for (const auto& entry : fs::directory_iterator(tmp, none)) {
            long long pid = 0;
            unsigned long long start = 0;
            const std::string name = entry.path().filename().string();
            if (std::sscanf(name.c_str(), "%lld-%llu-", &pid, &start) == 2 && pid > 0 &&
                net::start_time_of(static_cast<pid_t>(pid)) == start)
                continue;  // its unpacker runs
            std::error_code failed;
            fs::remove_all(entry.path(), failed);
            if (failed && failed != std::errc::no_such_file_or_directory && errors)
                errors->push_back("cannot remove " + entry.path().string() + ": " +
                                  failed.message());
            else if (!failed)
                removed.push_back(entry.path().string());
        }
    return removed;
}

}  // namespace nslab::oci

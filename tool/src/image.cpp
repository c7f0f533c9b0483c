#include "image.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "nslab/errors.hpp"
#include "nslab/fd.hpp"
#include "nslab/labs.hpp"
#include "nslab/net_host.hpp"
#include "nslab/oci_image.hpp"
#include "nslab/sys.hpp"

#ifndef NSLAB_BIN_DIR
#define NSLAB_BIN_DIR ""
#endif

namespace tool {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nslab::UsageError;

constexpr const char* subset = "FROM, COPY, RUN, ENV, WORKDIR, CMD, ENTRYPOINT";
constexpr const char* layer_type = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr const char* config_type = "application/vnd.oci.image.config.v1+json";
constexpr const char* manifest_type = "application/vnd.oci.image.manifest.v1+json";

std::string trim(const std::string& text) {
    const size_t first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos) return "";
    return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// "pid-start": a builder's own name for its temporary directory, which
// `nslab cleanup` removes once that process is gone.
std::string own_tag() {
    const pid_t me = ::getpid();
    return std::to_string(me) + "-" + std::to_string(nslab::net::start_time_of(me).value_or(0));
}

bool tag_alive(const std::string& tag) {
    long long pid = 0;
    unsigned long long start = 0;
    if (std::sscanf(tag.c_str(), "%lld-%llu", &pid, &start) != 2 || pid <= 0) return false;
    return nslab::net::start_time_of(static_cast<pid_t>(pid)) == start;
}

std::string now_rfc3339() {
    const std::time_t now = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return text;
}

// `path` made (or emptied) with `text` in it.
void write_text(const std::string& path, const std::string& text) {
    nslab::Fd fd = nslab::sys::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    for (size_t done = 0; done < text.size();) {
        ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        nslab::sys::check(n, "write(" + path + ")");
        done += static_cast<size_t>(n);
    }
}

std::string architecture() {
    struct utsname u {};
    ::uname(&u);
    const std::string machine = u.machine;
    if (machine == "x86_64") return "amd64";
    if (machine == "aarch64") return "arm64";
    return machine;
}

// What libarchive writes, into a file, its sha256 and size taken on the way.
struct HashedFile {
    nslab::Fd fd;
    nslab::oci::Sha256 sha{};
    long long size = 0;

    // libarchive's write callback: every byte written, or -1.
    static la_ssize_t write_cb(struct archive*, void* self, const void* buffer, size_t size) {
        auto* out = static_cast<HashedFile*>(self);
        out->sha.update(buffer, size);
        out->size += static_cast<long long>(size);
        const char* data = static_cast<const char*>(buffer);
        for (size_t left = size; left > 0;) {
            ssize_t n = ::write(out->fd.get(), data, left);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return -1;
            data += n, left -= static_cast<size_t>(n);
        }
        return static_cast<la_ssize_t>(size);
    }
};

// The file at `path` as the data of the entry `a` has just written the
// header of; false when libarchive refused a block.
bool copy_data(struct archive* a, const std::string& path) {
    nslab::Fd in = nslab::sys::open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    std::vector<char> buffer(1 << 16);
    for (;;) {
        ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        nslab::sys::check(n, "read(" + path + ")");
        if (n == 0) return true;
        if (archive_write_data(a, buffer.data(), static_cast<size_t>(n)) < 0) return false;
    }
}

// --- a tar, written with libarchive, its sha256 taken on the way -------

class TarWriter {
  public:
    explicit TarWriter(const std::string& path)
        : path_(path),
          out_{nslab::sys::open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)},
          a_(archive_write_new()) {
        archive_write_set_format_pax_restricted(a_);
        if (archive_write_open(a_, &out_, nullptr, &HashedFile::write_cb, nullptr) != ARCHIVE_OK)
            fail("open");
    }
    ~TarWriter() { archive_write_free(a_); }
    TarWriter(const TarWriter&) = delete;
    TarWriter& operator=(const TarWriter&) = delete;

    // The file at `host` (not followed) as `name`; `root_owned`: 0:0, as
    // COPY gives its files. A directory's entries follow with add_tree.
    void add(const std::string& name, const std::string& host, const struct stat& st,
             bool root_owned) {
        if (S_ISDIR(st.st_mode) && !directories_.insert(name).second) return;
        struct archive_entry* entry = archive_entry_new();
        nslab::ScopeGuard free_it([&] { archive_entry_free(entry); });
        archive_entry_set_pathname(entry, name.c_str());
        archive_entry_set_mode(entry, st.st_mode);
        archive_entry_set_uid(entry, root_owned ? 0 : st.st_uid);
        archive_entry_set_gid(entry, root_owned ? 0 : st.st_gid);
        archive_entry_set_mtime(entry, st.st_mtime, 0);  // seconds: the same files, the same tar
        const bool regular = S_ISREG(st.st_mode);
        if (regular) archive_entry_set_size(entry, st.st_size);
        if (S_ISLNK(st.st_mode))
            archive_entry_set_symlink(entry, nslab::sys::readlink(host).c_str());
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) archive_entry_set_rdev(entry, st.st_rdev);
        if (regular && st.st_nlink > 1) {  // a hard link within the layer
            auto [first, fresh] = links_.emplace(std::make_pair(st.st_dev, st.st_ino), name);
            if (!fresh) {
                archive_entry_set_hardlink(entry, first->second.c_str());
                archive_entry_set_size(entry, 0);
                header(entry, name);
                return;
            }
        }
        header(entry, name);
        if (regular && !copy_data(a_, host)) fail(name);
    }

    // `host` and, if it is a directory, everything below it, as `name`.
    void add_tree(const std::string& name, const std::string& host, bool root_owned) {
        struct stat st {};
        nslab::sys::check(::lstat(host.c_str(), &st), "lstat(" + host + ")");
        if (!name.empty()) add(name, host, st, root_owned);
        if (!S_ISDIR(st.st_mode)) return;
        for (const std::string& child : sorted_names(host))
            add_tree(name.empty() ? child : name + "/" + child, host + "/" + child, root_owned);
    }

    // An empty 0644 file of root's: the OCI spec's whiteout and opaque marks.
    void add_marker(const std::string& name) {
        struct archive_entry* entry = archive_entry_new();
        nslab::ScopeGuard free_it([&] { archive_entry_free(entry); });
        archive_entry_set_pathname(entry, name.c_str());
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_perm(entry, 0644);
        archive_entry_set_size(entry, 0);
        header(entry, name);
    }

    // The directories each level of `name` needs (root's, 0755).
    void add_parents(const std::string& name) {
        struct stat st {};
        st.st_mode = S_IFDIR | 0755;
        std::string so_far;
        for (const auto& part : fs::path(name).parent_path()) {
            so_far += (so_far.empty() ? "" : "/") + part.string();
            add(so_far, "", st, true);
        }
    }

    // Closes the tar; returns the sha256 of its bytes.
    std::string finish() {
        if (archive_write_close(a_) != ARCHIVE_OK) fail("close");
        out_.fd = nslab::Fd();
        return out_.sha.hex();
    }

    static std::vector<std::string> sorted_names(const std::string& dir) {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(dir))
            names.push_back(entry.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }

  private:
    [[noreturn]] void fail(const std::string& what) {
        const char* why = archive_error_string(a_);
        throw std::runtime_error("writing " + path_ + " (" + what + "): " + (why ? why : "failed"));
    }

    void header(struct archive_entry* entry, const std::string& name) {
        if (archive_write_header(a_, entry) < ARCHIVE_WARN) fail(name);
    }

    std::string path_;
    HashedFile out_;
    struct archive* a_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;
    std::set<std::string> directories_;
};

// --- the layout being built --------------------------------------------

struct LayerRef {
    std::string digest;   // "sha256:<hex>" of the tar+gzip blob
    std::string diff_id;  // "sha256:<hex>" of the tar itself
    long long size = 0;
};

// What the instructions so far make: the layers and the config.
struct State {
    std::vector<LayerRef> layers;
    std::vector<std::string> env;
    std::string working_dir, user;
    std::optional<std::vector<std::string>> cmd, entrypoint;
    json history = json::array();
};

class Layout {
  public:
    explicit Layout(std::string dir) : dir_(std::move(dir)) {
        nslab::sys::mkdir_p(blobs(), 0755);
        write_text(dir_ + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    }
    const std::string& dir() const { return dir_; }
    std::string blobs() const { return dir_ + "/blobs/sha256"; }

    // `tar` gzip-compressed into a blob (libarchive's gzip writer, no
    // timestamp: the same tar gives the same blob, and the store has it).
    LayerRef add_layer(const std::string& tar, const std::string& diff_hex) {
        const std::string partial = blobs() + "/.partial";
        struct archive* a = archive_write_new();
        nslab::ScopeGuard free_it([&] { archive_write_free(a); });
        nslab::ScopeGuard remove_partial([&] { ::unlink(partial.c_str()); });
        HashedFile out{nslab::sys::open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
        archive_write_add_filter_gzip(a);
        archive_write_set_format_raw(a);
        archive_write_set_options(a, "gzip:!timestamp");
        archive_write_set_bytes_per_block(a, 0);  // no padding after the gzip stream
        auto failed = [&](const char* what) {
            const char* why = archive_error_string(a);
            return std::runtime_error("compressing " + tar + " (" + what +
                                      "): " + (why ? why : "failed"));
        };
        if (archive_write_open(a, &out, nullptr, &HashedFile::write_cb, nullptr) != ARCHIVE_OK)
            throw failed("open");
        struct archive_entry* entry = archive_entry_new();
        nslab::ScopeGuard free_entry([&] { archive_entry_free(entry); });
        archive_entry_set_pathname(entry, "layer.tar");
        archive_entry_set_filetype(entry, AE_IFREG);
        if (archive_write_header(a, entry) != ARCHIVE_OK) throw failed("header");
        if (!copy_data(a, tar)) throw failed("data");
        if (archive_write_close(a) != ARCHIVE_OK) throw failed("close");
        const std::string hex = out.sha.hex();
        nslab::sys::check(::rename(partial.c_str(), (blobs() + "/" + hex).c_str()),
                          "rename(" + partial + ")");
        remove_partial.dismiss();
        return {"sha256:" + hex, "sha256:" + diff_hex, out.size};
    }

    // A JSON blob: its descriptor.
    json add_json(const json& value, const char* media_type) {
        const std::string text = value.dump();
        nslab::oci::Sha256 sha;
        sha.update(text.data(), text.size());
        const std::string hex = sha.hex();
        write_text(blobs() + "/.partial", text);
        nslab::sys::check(::rename((blobs() + "/.partial").c_str(), (blobs() + "/" + hex).c_str()),
                          "rename(" + blobs() + "/.partial)");
        return {{"mediaType", media_type},
                {"digest", "sha256:" + hex},
                {"size", static_cast<long long>(text.size())}};
    }

    // The config, the manifest and index.json of `state`; `name` the
    // ref.name (empty: none, an image only RUN's container sees). With
    // `for_run`, no Cmd or Entrypoint: a RUN's command is the one that runs.
    void write(const State& state, const std::string& name, bool for_run) {
        json settings = json::object();
        if (!state.env.empty()) settings["Env"] = state.env;
        if (!state.working_dir.empty()) settings["WorkingDir"] = state.working_dir;
        if (!state.user.empty()) settings["User"] = state.user;
        if (!for_run && state.entrypoint) settings["Entrypoint"] = *state.entrypoint;
        if (!for_run && state.cmd) settings["Cmd"] = *state.cmd;
        json diff_ids = json::array(), layers = json::array();
        for (const LayerRef& layer : state.layers) {
            diff_ids.push_back(layer.diff_id);
            layers.push_back(
                {{"mediaType", layer_type}, {"digest", layer.digest}, {"size", layer.size}});
        }
        const json config = {{"created", now_rfc3339()},
                             {"architecture", architecture()},
                             {"os", "linux"},
                             {"config", settings},
                             {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
                             {"history", state.history}};
        const json manifest = {{"schemaVersion", 2},
                               {"mediaType", manifest_type},
                               {"config", add_json(config, config_type)},
                               {"layers", layers}};
        json descriptor = add_json(manifest, manifest_type);
        if (!name.empty())
            descriptor["annotations"] = {{"org.opencontainers.image.ref.name", name}};
        const json index = {{"schemaVersion", 2},
                            {"mediaType", "application/vnd.oci.image.index.v1+json"},
                            {"manifests", json::array({descriptor})}};
        if (!for_run) {  // the RUN steps' configs and manifests are not the image's
            std::set<std::string> kept = {
                descriptor["digest"].get<std::string>().substr(7),
                manifest["config"]["digest"].get<std::string>().substr(7)};
            for (const LayerRef& layer : state.layers) kept.insert(layer.digest.substr(7));
            for (const std::string& name : TarWriter::sorted_names(blobs()))
                if (!kept.count(name)) ::unlink((blobs() + "/" + name).c_str());
        }
        write_text(dir_ + "/index.json.partial", index.dump());
        nslab::sys::check(
            ::rename((dir_ + "/index.json.partial").c_str(), (dir_ + "/index.json").c_str()),
            "rename(index.json)");
    }

  private:
    std::string dir_;
};

// An image of the store: its layout's manifest and config.
struct Stored {
    std::string dir;
    json manifest, config;
    std::string config_digest;
};

Stored read_stored(const std::string& name) {
    Stored s{std::string(nslab::oci::images_root) + "/" + name, {}, {}, {}};
    auto blob = [&](const std::string& digest) {
        const std::string hex = digest.substr(digest.find(':') + 1);
        if (hex.find_first_not_of("0123456789abcdef") != std::string::npos)
            throw std::runtime_error("image " + name + ": a bad digest '" + digest + "'");
        return json::parse(nslab::sys::read_file(s.dir + "/blobs/sha256/" + hex));
    };
    try {
        const json index = json::parse(nslab::sys::read_file(s.dir + "/index.json"));
        s.manifest = blob(index.at("manifests").at(0).at("digest").get<std::string>());
        s.config_digest = s.manifest.at("config").at("digest").get<std::string>();
        s.config = blob(s.config_digest);
    } catch (const json::exception& e) {
        throw std::runtime_error("image " + name + ": its layout is damaged (" + e.what() + ")");
    }
    return s;
}

bool image_exists(const std::string& name) {
    return nslab::sys::exists(std::string(nslab::oci::images_root) + "/" + name + "/index.json");
}

std::vector<std::string> image_names() {
    std::vector<std::string> names;
    std::error_code none;
    for (const auto& entry : fs::directory_iterator(nslab::oci::images_root, none)) {
        const std::string name = entry.path().filename().string();
        if (!name.starts_with(".") && image_exists(name)) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

// Serialises installing and removing images (not building them).
nslab::Fd lock_images() {
    nslab::sys::mkdir_p(nslab::oci::images_root, 0755);
    const std::string path = std::string(nslab::oci::images_root) + "/.lock";
    nslab::Fd fd = nslab::sys::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    nslab::sys::check(::flock(fd.get(), LOCK_EX), "flock(" + path + ")");
    return fd;
}

// --- building ----------------------------------------------------------

volatile sig_atomic_t interrupted = 0;

struct Interrupted : std::runtime_error {
    int signal;
    explicit Interrupted(int sig)
        : std::runtime_error(std::string("image build: interrupted by ") + ::strsignal(sig) +
                             "; nothing kept"),
          signal(sig) {}
};

void check_interrupted() {
    if (interrupted) throw Interrupted(interrupted);
}

struct BuildOptions {
    std::string dockerfile, name, context, bin_dir;
};

class Builder {
  public:
    Builder(BuildOptions options, std::string lab)
        : o_(std::move(options)),
          lab_(std::move(lab)),
          temp_(std::string(nslab::oci::images_root) + "/.build-" + own_tag()),
          remove_temp_([this] { remove_temp(); }) {
        nslab::sys::mkdir_p(nslab::oci::images_root, 0755);
        nslab::sys::mkdir_new(temp_, 0700);
        layout_.emplace(temp_ + "/layout");
        context_real_ = fs::canonical(o_.context).string();
    }

    // Every instruction, then the image installed as images_root/NAME.
    // Returns the image's id (its config's digest).
    std::string run(const std::vector<Instruction>& instructions) {
        int step = 0;
        for (const Instruction& in : instructions) {
            check_interrupted();
            where_ = o_.dockerfile + ":" + std::to_string(in.line) + ": " + in.keyword + " " +
                     in.arguments;
            std::printf("step %d/%zu: %s %s\n", ++step, instructions.size(), in.keyword.c_str(),
                        in.arguments.c_str());
            std::fflush(stdout);
            const auto start = std::chrono::steady_clock::now();
            apply(in);
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count();
            std::printf("  %lld ms\n", static_cast<long long>(ms));
        }
        check_interrupted();
        layout_->write(state_, o_.name, false);
        const std::string id = read_config_digest();
        install();
        return id;
    }

  private:
    void remove_temp() noexcept {
        std::error_code ignored;
        fs::remove_all(temp_, ignored);
    }

    std::runtime_error failure(const std::string& why) const {
        return std::runtime_error("image build: " + where_ + ": " + why);
    }

    void history(const Instruction& in, bool empty_layer) {
        json entry = {{"created", now_rfc3339()},
                      {"created_by", in.keyword + " " + in.arguments},
                      {"comment", "nslab image build"}};
        if (empty_layer) entry["empty_layer"] = true;
        state_.history.push_back(entry);
    }

    std::string absolute(const std::string& path) const {
        if (path.starts_with("/")) return fs::path(path).lexically_normal().string();
        const std::string base = state_.working_dir.empty() ? "/" : state_.working_dir;
        return (fs::path(base) / path).lexically_normal().string();
    }

    void apply(const Instruction& in) {
        if (in.keyword == "FROM") return from(in);
        if (in.keyword == "COPY") return copy(in);
        if (in.keyword == "RUN") return run_step(in);
        if (in.keyword == "ENV") {
            for (const std::string& pair : env_pairs(in.arguments, where_)) {
                const std::string key = pair.substr(0, pair.find('=') + 1);
                std::erase_if(state_.env, [&](const std::string& e) { return e.starts_with(key); });
                state_.env.push_back(pair);
            }
        } else if (in.keyword == "WORKDIR") {
            state_.working_dir = absolute(in.arguments);
        } else if (in.keyword == "CMD") {
            state_.cmd = command_form(in.arguments);
        } else if (in.keyword == "ENTRYPOINT") {
            state_.entrypoint = command_form(in.arguments);
            state_.cmd.reset();  // as docker: an ENTRYPOINT resets the base image's CMD
        }
        history(in, true);
    }

    void from(const Instruction& in) {
        const std::string base = in.arguments;
        if (base == "scratch") return;  // no layer, no settings, as docker has it
        try {
            check_image_name(base, "FROM");
        } catch (const UsageError& e) {
            throw failure(e.what());
        }
        if (!image_exists(base))
            throw failure("no image '" + base + "' in " + nslab::oci::images_root +
                          " (nslab image ls lists them; nslab image build -t " + base +
                          " makes it)");
        const Stored stored = read_stored(base);
        const json& config = stored.config;
        const json settings = config.value("config", json::object());
        auto strings = [&](const char* key) {
            return settings.contains(key) && settings[key].is_array()
                       ? std::optional(settings[key].get<std::vector<std::string>>())
                       : std::nullopt;
        };
        state_.env = strings("Env").value_or(std::vector<std::string>{});
        state_.cmd = strings("Cmd");
        state_.entrypoint = strings("Entrypoint");
        state_.working_dir = settings.value("WorkingDir", std::string());
        state_.user = settings.value("User", std::string());
        state_.history = config.value("history", json::array());
        const json diff_ids = config.at("rootfs").at("diff_ids");
        const json& layers = stored.manifest.at("layers");
        for (size_t i = 0; i < layers.size(); ++i) {
            LayerRef layer{layers[i].at("digest"), diff_ids.at(i), layers[i].value("size", 0LL)};
            const std::string hex = layer.digest.substr(7);
            // The same file system: a hard link, not a copy.
            const std::string from = stored.dir + "/blobs/sha256/" + hex;
            const std::string to = layout_->blobs() + "/" + hex;
            if (!nslab::sys::exists(to))
                nslab::sys::check(::link(from.c_str(), to.c_str()), "link(" + from + ")");
            state_.layers.push_back(layer);
        }
    }

    // A layer from the tar at `tar` (diff id `diff_hex`).
    void add_layer(const Instruction& in, const std::string& tar, const std::string& diff_hex) {
        state_.layers.push_back(layout_->add_layer(tar, diff_hex));
        ::unlink(tar.c_str());
        history(in, false);
    }

    // COPY SRC... DEST: each SRC in DIR (never outside it), root's files.
    void copy(const Instruction& in) {
        std::vector<std::string> words;
        if (in.arguments.starts_with("[")) {
            words = command_form(in.arguments);
            if (words.size() >= 3 && words[0] == "/bin/sh" && words[1] == "-c")
                throw failure("the JSON form is an array of strings");
        } else {
            std::istringstream split(in.arguments);
            for (std::string word; split >> word;) words.push_back(word);
        }
        if (!words.empty() && words.front().starts_with("--"))
            throw failure("COPY's option " + words.front() + " is not in nslab's subset");
        if (words.size() < 2) throw failure("COPY needs a source and a destination");
        const std::string dest_text = words.back();
        words.pop_back();
        const bool into_dir = dest_text.ends_with("/") || words.size() > 1;
        if (words.size() > 1 && !dest_text.ends_with("/"))
            throw failure("with more than one source, the destination must end with '/'");
        const std::string dest = absolute(dest_text);
        const std::string tar = temp_ + "/layer.tar";
        TarWriter writer(tar);
        for (const std::string& source : words) {
            const std::string real = inside_context(source);
            struct stat st {};
            nslab::sys::check(::stat(real.c_str(), &st), "stat(" + real + ")");
            std::string target = dest;
            if (!S_ISDIR(st.st_mode) && into_dir)
                target = absolute(dest + "/" + fs::path(real).filename().string());
            std::string name = target.substr(1);  // relative, as tar layers are
            writer.add_parents(name.empty() ? "" : name);
            writer.add_tree(name, real, true);
        }
        add_layer(in, tar, writer.finish());
    }

    // SRC's real path, which must be DIR or below it.
    std::string inside_context(const std::string& source) const {
        const std::string quoted = "COPY source '" + source + "'";
        if (source.starts_with("/"))
            throw failure(quoted + " is an absolute path; sources are relative to " + o_.context);
        const fs::path normal = fs::path(source).lexically_normal();
        if (!normal.empty() && *normal.begin() == "..")
            throw failure(quoted + " is outside " + o_.context + " ('..')");
        const std::string joined = o_.context + "/" + source;
        struct stat st {};
        if (::lstat(joined.c_str(), &st) != 0)
            throw failure(quoted + " does not exist in " + o_.context);
        std::error_code error;
        const std::string real = fs::canonical(joined, error).string();
        if (error) throw failure(quoted + ": " + error.message());
        if (real != context_real_ && !real.starts_with(context_real_ + "/"))
            throw failure(quoted + " leads out of " + o_.context + " through a symbolic link (to " +
                          real + ")");
        return real;
    }

    // RUN: in a lab 10 container of the image so far; what it wrote (its
    // upper directory) becomes the next layer.
    void run_step(const Instruction& in) {
        if (state_.layers.empty())
            throw failure("RUN needs a layer to run on (FROM an image, or COPY first)");
        layout_->write(state_, "", true);
        const std::string upper = temp_ + "/upper";
        const std::vector<std::string> command = command_form(in.arguments);
        // --init: PID 1 forwards a signal to the command (an interrupted build
        // stops its RUN) and reaps what the command leaves.
        std::vector<std::string> argv = {lab_,      "--init",       "--net",          "none",
                                         "--image", layout_->dir(), "--keep-changes", upper,
                                         "--"};
        argv.insert(argv.end(), command.begin(), command.end());
        std::string said;  // the runtime's last line on stderr
        const int status = run_lab(argv, &said);
        check_interrupted();
        if (WIFSIGNALED(status))
            throw failure(std::string("killed by ") + ::strsignal(WTERMSIG(status)));
        // 125: the runtime failed (README: exit statuses), and said why.
        if (WEXITSTATUS(status) == nslab::exit_status::runtime_failed && !said.empty())
            throw failure("exited with status 125: " + said);
        if (status != 0) throw failure("exited with status " + std::to_string(WEXITSTATUS(status)));
        if (!nslab::sys::exists(upper))
            throw failure(lab_ + " kept no upper directory (--keep-changes " + upper + ")");
        const std::string tar = temp_ + "/layer.tar";
        TarWriter writer(tar);
        diff(writer, upper, "");
        const std::string diff_hex = writer.finish();
        std::error_code ignored;
        fs::remove_all(upper, ignored);
        add_layer(in, tar, diff_hex);
    }

    // The wait status of lab 10 running `argv` (its output on our stderr).
    int run_lab(const std::vector<std::string>& argv, std::string* last_error_line) {
        std::vector<char*> args;
        for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
        args.push_back(nullptr);
        // Its stderr comes through us to the build's log (stdout), so that
        // our stderr holds only the one line of a failure, which then names
        // the runtime's own last line.
        auto [from_lab, to_us] = nslab::sys::pipe2(O_CLOEXEC);
        const pid_t child = nslab::sys::fork();
        if (child == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a SIGKILLed build takes its RUN along
            ::dup2(to_us.get(), 2);
            ::execv(args[0], args.data());
            std::fprintf(stderr, "%s: %s\n", args[0], std::strerror(errno));
            ::_exit(127);
        }
        to_us = nslab::Fd();
        bool forwarded = false;
        std::string line;
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::read(from_lab.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) {
                if (interrupted && !forwarded) ::kill(child, SIGTERM), forwarded = true;
                continue;
            }
            if (n <= 0) break;
            std::fwrite(buffer, 1, static_cast<size_t>(n), stdout);
            std::fflush(stdout);
            for (ssize_t k = 0; k < n; ++k) {
                if (buffer[k] != '\n')
                    line += buffer[k];
                else if (!line.empty())
                    *last_error_line = line, line.clear();
            }
        }
        if (!line.empty()) *last_error_line = line;
        for (;;) {
            int status = 0;
            if (::waitpid(child, &status, 0) == child) return status;
            if (errno != EINTR) nslab::sys::fail("waitpid");
            if (interrupted && !forwarded) ::kill(child, SIGTERM), forwarded = true;
        }
    }

    static bool has_xattr(const std::string& path, const char* what, char* value = nullptr) {
        char buffer[8];
        for (const char* prefix : {"trusted.overlay.", "user.overlay."}) {
            const ssize_t n = ::lgetxattr(path.c_str(), (std::string(prefix) + what).c_str(),
                                          buffer, sizeof buffer);
            if (n >= 0) {
                if (value) *value = n > 0 ? buffer[0] : 0;
                return true;
            }
        }
        return false;
    }

    // An upper directory as a layer: overlayfs's marks become the OCI
    // spec's. A whiteout (a 0/0 character device, or an empty file with
    // the overlay.whiteout xattr) is the empty file .wh.NAME; a directory
    // with overlay.opaque "y" is written with .wh..wh..opq in it.
    void diff(TarWriter& writer, const std::string& dir, const std::string& prefix) {
        for (const std::string& name : TarWriter::sorted_names(dir)) {
            const std::string host = dir + "/" + name, entry = prefix + name;
            struct stat st {};
            nslab::sys::check(::lstat(host.c_str(), &st), "lstat(" + host + ")");
            const bool device_whiteout = S_ISCHR(st.st_mode) && st.st_rdev == ::makedev(0, 0);
            const bool xattr_whiteout =
                S_ISREG(st.st_mode) && st.st_size == 0 && has_xattr(host, "whiteout");
            if (device_whiteout || xattr_whiteout) {
                writer.add_marker(prefix + ".wh." + name);
                continue;
            }
            if (has_xattr(host, "metacopy") || has_xattr(host, "redirect"))
                throw failure("overlayfs kept " + entry +
                              " as metadata or a redirect (metacopy or redirect_dir is on), "
                              "which a tar layer cannot hold");
            writer.add(entry, host, st, false);
            if (!S_ISDIR(st.st_mode)) continue;
            char opaque = 0;
            if (has_xattr(host, "opaque", &opaque) && opaque == 'y')
                writer.add_marker(entry + "/.wh..wh..opq");
            diff(writer, host, entry + "/");
        }
    }

    std::string read_config_digest() const {
        const json index = json::parse(nslab::sys::read_file(layout_->dir() + "/index.json"));
        const std::string manifest = index["manifests"][0]["digest"].get<std::string>();
        const json m =
            json::parse(nslab::sys::read_file(layout_->blobs() + "/" + manifest.substr(7)));
        return m["config"]["digest"].get<std::string>();
    }

    // images_root/NAME: the new layout renamed into place (an older image
    // of that name is replaced: its layers other images use stay).
    void install() {
        nslab::Fd lock = lock_images();
        const std::string target = std::string(nslab::oci::images_root) + "/" + o_.name;
        if (nslab::sys::exists(target))
            nslab::sys::check(::rename(target.c_str(), (temp_ + "/replaced").c_str()),
                              "rename(" + target + ")");
        nslab::sys::check(::rename(layout_->dir().c_str(), target.c_str()),
                          "rename(" + layout_->dir() + ", " + target + ")");
    }

    BuildOptions o_;
    std::string lab_, temp_, context_real_, where_;
    nslab::ScopeGuard remove_temp_;
    std::optional<Layout> layout_;
    State state_;
};

void on_signal(int sig) {
    interrupted = sig;
}

int build_command(const std::vector<std::string>& args) {
    BuildOptions o;
    o.bin_dir = NSLAB_BIN_DIR;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= args.size()) throw UsageError("image build: " + arg + " needs a value");
            return args[++i];
        };
        if (arg == "-f" || arg == "--file")
            o.dockerfile = value();
        else if (arg == "-t" || arg == "--tag")
            o.name = value(), check_image_name(o.name, "-t");
        else if (arg.starts_with("--tag="))
            o.name = arg.substr(6), check_image_name(o.name, "-t");
        else if (arg == "--bin")
            o.bin_dir = value();
        else if (arg.starts_with("-") && arg != "-")
            throw UsageError("image build: unknown option '" + arg + "'");
        else if (o.context.empty())
            o.context = arg;
        else
            throw UsageError("image build: one DIR only ('" + arg + "' is a second)");
    }
    if (o.context.empty())
        throw UsageError("image build needs a DIR: nslab image build [-f FILE] [-t NAME] DIR");
    struct stat st {};
    if (::stat(o.context.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw UsageError("image build: " + o.context + " is not a directory");
    if (o.dockerfile.empty()) o.dockerfile = o.context + "/Dockerfile";
    if (o.name.empty()) {
        o.name = fs::path(fs::canonical(o.context)).filename().string();
        check_image_name(o.name, "-t (not given: DIR's name)");
    }
    std::string text;
    try {
        text = nslab::sys::read_file(o.dockerfile);
    } catch (const std::system_error& e) {
        throw UsageError("image build: no Dockerfile " + o.dockerfile + " (" +
                         std::strerror(e.code().value()) + "; -f FILE names another)");
    }
    const std::vector<Instruction> instructions = parse_dockerfile(text, o.dockerfile);
    if (::geteuid() != 0)
        throw std::runtime_error(std::string("image build: root only (the images are in ") +
                                 nslab::oci::images_root + ", each RUN a lab 10 container)");
    std::string lab;
    for (const nslab::Lab& candidate : nslab::lab_table)
        if (candidate.layer == nslab::Layer::image)
            lab = o.bin_dir + "/" + nslab::lab_program_name(candidate);
    if (::access(lab.c_str(), X_OK) != 0)
        throw std::runtime_error("image build: no " + lab + " to run RUN with (build the tree)");

    struct sigaction action {};
    action.sa_handler = on_signal;  // no SA_RESTART: waitpid returns, the build stops
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &action, nullptr);
    const auto start = std::chrono::steady_clock::now();
    const std::string id = Builder(o, lab).run(instructions);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    std::printf("built %s in %lld ms (%zu instructions): %s/%s\n", o.name.c_str(),
                static_cast<long long>(ms), instructions.size(), nslab::oci::images_root,
                o.name.c_str());
    std::cout << id << "\n";
    return 0;
}

// --- ls, rm, save ------------------------------------------------------

std::string human_size(long long bytes) {
    char text[32];
    if (bytes < 1000) return std::to_string(bytes) + " B";
    if (bytes < 1000 * 1000)
        std::snprintf(text, sizeof text, "%.1f kB", bytes / 1e3);
    else
        std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
    return text;
}

int ls_command(const std::vector<std::string>& args) {
    if (!args.empty()) throw UsageError("image ls takes no arguments ('" + args[0] + "')");
    std::printf("%-24s %-12s %-10s %s\n", "NAME", "ID", "SIZE", "CREATED");
    for (const std::string& name : image_names()) {
        const Stored s = read_stored(name);
        long long size = s.manifest.at("config").value("size", 0LL);
        for (const auto& layer : s.manifest.at("layers")) size += layer.value("size", 0LL);
        std::printf("%-24s %-12s %-10s %s\n", name.c_str(), s.config_digest.substr(7, 12).c_str(),
                    human_size(size).c_str(), s.config.value("created", std::string()).c_str());
    }
    return 0;
}

std::set<std::string> layer_hexes(const Stored& s) {
    std::set<std::string> hexes;
    for (const auto& layer : s.manifest.at("layers"))
        hexes.insert(layer.at("digest").get<std::string>().substr(7));
    return hexes;
}

// A process whose mount namespace has an overlay with one of `hexes`'s
// store directories as a lower layer: its PID and that layer.
std::optional<std::pair<pid_t, std::string>> user_of(const std::set<std::string>& hexes) {
    std::set<ino_t> seen;
    std::error_code none;
    for (const auto& entry : fs::directory_iterator("/proc", none)) {
        const std::string pid = entry.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        struct stat ns {};
        if (::stat(("/proc/" + pid + "/ns/mnt").c_str(), &ns) != 0 ||
            !seen.insert(ns.st_ino).second)
            continue;
        std::string mounts;
        try {
            mounts = nslab::sys::read_file("/proc/" + pid + "/mountinfo");
        } catch (const std::system_error&) {
            continue;  // gone meanwhile
        }
        std::istringstream lines(mounts);
        for (std::string line; std::getline(lines, line);) {
            if (line.find(" - overlay ") == std::string::npos) continue;
            for (const std::string& hex : hexes)
                if (line.find(std::string(nslab::oci::store_root) + "/") != std::string::npos &&
                    line.find("/sha256/" + hex) != std::string::npos)
                    return std::make_pair(static_cast<pid_t>(std::stol(pid)), hex);
        }
    }
    return std::nullopt;
}

int rm_command(const std::vector<std::string>& args) {
    if (args.size() != 1) throw UsageError("image rm takes one NAME");
    const std::string& name = args[0];
    check_image_name(name, "image rm");
    auto refuse_unknown = [&] {
        if (!image_exists(name))
            throw std::runtime_error("image rm: no image '" + name +
                                     "' (nslab image ls lists them)");
    };
    refuse_unknown();  // before the lock, which would make the images' directory
    nslab::Fd lock = lock_images();
    refuse_unknown();  // again: another rm may have removed it meanwhile
    // Its layers that no other image lists (the manifests of every other
    // image in images_root): those go from the store too.
    std::set<std::string> only_ours = layer_hexes(read_stored(name));
    for (const std::string& other : image_names())
        if (other != name)
            for (const std::string& hex : layer_hexes(read_stored(other))) only_ours.erase(hex);
    if (auto user = user_of(only_ours))
        throw std::runtime_error(
            "image rm: " + name + " is in use: process " + std::to_string(user->first) +
            "'s overlay has its layer sha256:" + user->second + " (stop that container first)");
    const std::string dir = std::string(nslab::oci::images_root) + "/" + name;
    const std::string doomed = std::string(nslab::oci::images_root) + "/.rm-" + own_tag();
    nslab::sys::check(::rename(dir.c_str(), doomed.c_str()), "rename(" + dir + ")");
    std::error_code ignored;
    fs::remove_all(doomed, ignored);
    int unpacked = 0;
    for (const auto& rule : fs::directory_iterator(nslab::oci::store_root, ignored))
        for (const std::string& hex : only_ours)
            if (fs::remove_all(rule.path() / "sha256" / hex, ignored) > 0) ++unpacked;
    std::printf("removed image %s and %d unpacked layers no other image uses\n", name.c_str(),
                unpacked);
    return 0;
}

int save_command(const std::vector<std::string>& args) {
    std::string name, output;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "-o" || args[i] == "--output") {
            if (i + 1 >= args.size()) throw UsageError("image save: -o needs a FILE");
            output = args[++i];
        } else if (args[i].starts_with("-")) {
            throw UsageError("image save: unknown option '" + args[i] + "'");
        } else if (name.empty()) {
            name = args[i];
        } else {
            throw UsageError("image save takes one NAME ('" + args[i] + "' is a second)");
        }
    }
    if (name.empty() || output.empty()) throw UsageError("usage: nslab image save NAME -o FILE");
    check_image_name(name, "image save");
    if (!image_exists(name))
        throw std::runtime_error("image save: no image '" + name + "' (nslab image ls lists them)");
    const std::string partial = output + ".partial-" + own_tag();
    nslab::ScopeGuard remove_partial([&] { ::unlink(partial.c_str()); });
    {
        TarWriter writer(partial);
        writer.add_tree("", std::string(nslab::oci::images_root) + "/" + name, true);
        writer.finish();
    }
    nslab::sys::check(::rename(partial.c_str(), output.c_str()), "rename(" + output + ")");
    remove_partial.dismiss();
    std::printf("saved %s to %s (an oci-archive: podman load -i %s)\n", name.c_str(),
                output.c_str(), output.c_str());
    return 0;
}

}  // namespace

std::vector<Instruction> parse_dockerfile(const std::string& text, const std::string& file) {
    static const std::set<std::string> known = {"FROM",    "COPY", "RUN",       "ENV",
                                                "WORKDIR", "CMD",  "ENTRYPOINT"};
    std::vector<Instruction> out;
    std::istringstream lines(text);
    int number = 0;
    std::string line;
    while (std::getline(lines, line)) {
        ++number;
        std::string whole = trim(line);
        if (whole.empty() || whole.starts_with("#")) continue;
        const int first = number;
        while (whole.ends_with("\\")) {  // a continuation: the next line joins this one
            whole.pop_back();
            std::string next;
            bool more = false;
            while (std::getline(lines, next)) {
                ++number;
                const std::string part = trim(next);
                if (part.starts_with("#")) continue;  // comments inside are dropped
                whole += " " + part;
                more = true;
                break;
            }
            if (!more) break;
            whole = trim(whole);
        }
        const size_t space = whole.find_first_of(" \t");
        std::string keyword = whole.substr(0, space);
        for (char& c : keyword) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        const std::string arguments = space == std::string::npos ? "" : trim(whole.substr(space));
        const std::string where = file + ":" + std::to_string(first) + ": ";
        if (!known.count(keyword))
            throw std::runtime_error("image build: " + where + "unknown instruction '" + keyword +
                                     "' (nslab builds " + subset + ")");
        if (arguments.empty())
            throw std::runtime_error("image build: " + where + keyword + " needs arguments");
        if (out.empty() && keyword != "FROM")
            throw std::runtime_error("image build: " + where +
                                     "the first instruction must be FROM (scratch or an image)");
        if (!out.empty() && keyword == "FROM")
            throw std::runtime_error("image build: " + where +
                                     "a second FROM (stages are not in nslab's subset)");
        out.push_back({first, keyword, arguments});
    }
    if (out.empty()) throw std::runtime_error("image build: " + file + ": no instruction");
    return out;
}

std::vector<std::string> command_form(const std::string& arguments) {
    if (arguments.starts_with("[")) {
        try {
            const json array = json::parse(arguments);
            if (array.is_array() && !array.empty() &&
                std::all_of(array.begin(), array.end(),
                            [](const json& v) { return v.is_string(); }))
                return array.get<std::vector<std::string>>();
        } catch (const json::exception&) {}  // not JSON: the shell form, as docker reads it
    }
    return {"/bin/sh", "-c", arguments};
}

std::vector<std::string> env_pairs(const std::string& arguments, const std::string& where) {
    // Words, with '...' and "..." quoting and \ escaping, as docker splits them.
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (size_t i = 0; i < arguments.size(); ++i) {
        const char c = arguments[i];
        if (quote) {
            if (c == quote)
                quote = 0;
            else if (c == '\\' && quote == '"' && i + 1 < arguments.size())
                word += arguments[++i];
            else
                word += c;
        } else if (c == '\'' || c == '"') {
            quote = c, in_word = true;
        } else if (c == '\\' && i + 1 < arguments.size()) {
            word += arguments[++i], in_word = true;
        } else if (c == ' ' || c == '\t') {
            if (in_word) words.push_back(word), word.clear(), in_word = false;
        } else {
            word += c, in_word = true;
        }
    }
    if (quote) throw std::runtime_error("image build: " + where + ": an unclosed quote");
    if (in_word) words.push_back(word);
    if (words.empty()) throw std::runtime_error("image build: " + where + ": ENV needs NAME=VALUE");
    if (words[0].find('=') == std::string::npos) {  // ENV NAME VALUE...
        std::string value;
        for (size_t i = 1; i < words.size(); ++i) value += (i > 1 ? " " : "") + words[i];
        return {words[0] + "=" + value};
    }
    for (const std::string& pair : words)
        if (pair.find('=') == std::string::npos || pair.front() == '=')
            throw std::runtime_error("image build: " + where + ": '" + pair +
                                     "' is not NAME=VALUE");
    return words;
}

void check_image_name(const std::string& name, const std::string& option) {
    const std::string rule =
        " (an image name is 1 to 128 of a-z 0-9 . _ -, starting with a letter or digit)";
    const std::string quoted =
        option + " '" + (name.size() > 40 ? name.substr(0, 40) + "..." : name) + "'";
    if (name.empty()) throw UsageError(option + ": an empty image name" + rule);
    if (name.size() > 128)
        throw UsageError(quoted + ": longer than 128 bytes (" + std::to_string(name.size()) + ")" +
                         rule);
    if (name.find('/') != std::string::npos || name.find("..") != std::string::npos)
        throw UsageError(quoted + ": a '/' or '..' would name a path, not an image" + rule);
    const bool first_ok = std::islower(static_cast<unsigned char>(name[0])) ||
                          std::isdigit(static_cast<unsigned char>(name[0]));
    const bool rest_ok = std::all_of(name.begin(), name.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
    if (!first_ok || !rest_ok) throw UsageError(quoted + ": not an image name" + rule);
}

std::vector<std::string> image_cleanup_stale(std::vector<std::string>* errors) {
    std::vector<std::string> removed;
    std::error_code none;
    for (const auto& entry : fs::directory_iterator(nslab::oci::images_root, none)) {
        const std::string name = entry.path().filename().string();
        std::string tag;
        if (name.starts_with(".build-"))
            tag = name.substr(7);
        else if (name.starts_with(".rm-"))
            tag = name.substr(4);
        else
            continue;
        if (tag_alive(tag)) continue;
        std::error_code failed;
        fs::remove_all(entry.path(), failed);
        if (failed && failed != std::errc::no_such_file_or_directory && errors)
            errors->push_back("cannot remove " + entry.path().string() + ": " + failed.message());
        else if (!failed)
            removed.push_back(entry.path().string());
    }
    return removed;
}

int image_command(const std::vector<std::string>& args) {
    const std::string usage =
        "usage: nslab image build [-f FILE] [-t NAME] DIR | ls | rm NAME | save NAME -o FILE";
    if (args.empty()) throw UsageError(usage);
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    try {
        if (args[0] == "build") return build_command(rest);
        if (args[0] == "ls") return ls_command(rest);
        if (args[0] == "rm") return rm_command(rest);
        if (args[0] == "save") return save_command(rest);
    } catch (const Interrupted& e) {
        std::fprintf(stderr, "nslab: %s\n", e.what());
        return 128 + e.signal;
    }
    throw UsageError("unknown image command '" + args[0] + "'; " + usage);
}

}  // namespace tool

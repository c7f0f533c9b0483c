// Lab 10's given code: an OCI image (a layout directory, or an
// oci-archive tar of one) as the layers and the settings a container of it
// starts with. Read, not edited: the student's part is the whiteout rule
// (labs/lab10_image/image.cpp), which the unpacker below calls for each
// entry of a layer.
//
// The image layout (the OCI image spec, image-layout.md): oci-layout,
// index.json naming a manifest, the manifest naming a config and the
// layers, each a blob in blobs/sha256/<hex> whose sha256 is its name. Each
// layer (a tar, maybe gzip-compressed) is unpacked once into a
// content-addressed store, <store>/<rule>/sha256/<hex of the layer's blob>
// (<rule>: a hash of what the whiteout rule makes, so that a changed rule
// never runs on layers an earlier one unpacked): into a
// temporary directory first, renamed into place only once complete, so the
// store never holds half a layer. libarchive reads the tar and the gzip;
// the entries are written here, every name opened below the layer's
// directory with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so no
// entry can reach outside it (an absolute name, "..", a write through a
// symbolic link, a hard link to a file outside, a device node are each
// refused with one line naming the layer and the entry).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nslab/fd.hpp"

namespace nslab::oci {

// How overlayfs will read the marks of a layer in this store.
struct WhiteoutForm {
    // A whiteout is a character device 0/0 (making one needs CAP_MKNOD);
    // else a zero-size regular file with the xattr <prefix>whiteout, whose
    // directory has the xattr <prefix>opaque set to "x".
    bool device = true;
    // The xattr namespaces overlayfs reads its marks from: "trusted.overlay."
    // by default, "user.overlay." with the userxattr mount option.
    std::vector<std::string> prefixes;
};

// What the unpacker asks about each entry of a layer: `name` is the last
// component of the entry's path, `dir` the directory it is in (opened in
// the layer being unpacked). Returns true when the entry was a whiteout
// marker and what overlayfs reads instead has been made in `dir` (the entry
// itself is then not written); false for an ordinary entry.
using WhiteoutRule = std::function<bool(const Fd& dir, std::string_view name, const WhiteoutForm&)>;

// What the image's config says a container of it runs (the OCI image spec,
// config.md, "config").
struct Settings {
    std::vector<std::string> env{};  // NAME=VALUE
    std::vector<std::string> entrypoint{};
    std::vector<std::string> cmd{};
    std::string working_dir{};
    std::string user{};  // uid, uid:gid, name or name:group; empty: root
};

struct Image {
    std::vector<std::string> layers;  // directories in the store, lowest first
    Settings settings;
    long long unpacked_ms = 0;  // spent unpacking layers the store did not have yet
    int layers_unpacked = 0;
};

// Root's store; a user's is /tmp/nslab-<uid>/layers (a 0700 directory of
// its own, as image_store's containers are).
inline constexpr const char* store_root = "/var/lib/nslab/layers";
std::string store_for(uid_t euid);

// The form of the marks in the store of `euid`: root's layers have device
// whiteouts and opaque marks in both namespaces (they serve containers with
// and without userxattr; only trusted.overlay. where the store's file system
// keeps no user.* attributes: tmpfs before Linux 6.6); a user's, xattr
// whiteouts in user.overlay. (refused, one line, where it cannot keep them).
WhiteoutForm form_for(uid_t euid);

// Loads the image at `path` (a layout directory or an oci-archive file):
// verifies the sha256 of every blob it reads, unpacks the layers the store
// lacks with `rule` deciding on each whiteout entry. Throws
// std::runtime_error with one line naming the image and what is wrong
// (a blob's digest, an entry); nothing is left of a layer that failed.
Image load(const std::string& path, const WhiteoutRule& rule);

// The argv a container of `settings` runs: Entrypoint, then `command`
// when one was given, else Cmd (as `docker run IMAGE [COMMAND]` does).
std::vector<std::string> command_of(const Settings& settings,
                                    const std::vector<std::string>& command);

// The uid and gid of the config's User ("uid", "uid:gid", "name",
// "name:group", "uid:group"...): a name is looked up in `passwd` and
// `group` (the texts of the image's /etc/passwd and /etc/group); a uid
// alone takes the gid its passwd line has, else 0. Throws
// std::runtime_error with one line when a name is not there.
std::pair<uid_t, gid_t> resolve_user(const std::string& user, const std::string& passwd,
                                     const std::string& group);

// `nslab cleanup`: the temporary directories of unpackers that are gone
// (SIGKILLed midway); returns what was removed.
std::vector<std::string> cleanup_stale(std::vector<std::string>* errors);

// --- what `nslab image` (tool/src/image.cpp) shares with the unpacker ----

// A running sha256, as blobs are named: hex() is the digest's 64 hex digits.
class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(const void* data, size_t size);
    std::string hex();

  private:
    struct Context;
    Context* ctx_;
};
std::string sha256_of_file(const std::string& path);

// Root's named images (`nslab image build -t NAME`): one OCI image layout
// each, images_root/NAME; their layers are unpacked into store_root by the
// first container that needs them, as any --image's are.
inline constexpr const char* images_root = "/var/lib/nslab/images";

// --image's argument: a path when it has a '/' or names a file or directory
// that exists; else NAME of `nslab image ls` (images_root/NAME), when there
// is one; else the argument, as given (load then says it is missing).
std::string resolve_image(const std::string& given);

}  // namespace nslab::oci

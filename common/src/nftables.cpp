#include "nslab/nftables.hpp"

#include <dlfcn.h>
#include <nftables/libnftables.h>

#include <stdexcept>

namespace nslab::nftables {

namespace {

// The functions nslab calls, from libnftables.so.1.
struct Library {
    decltype(&::nft_ctx_new) ctx_new;
    decltype(&::nft_ctx_free) ctx_free;
    decltype(&::nft_ctx_buffer_output) buffer_output;
    decltype(&::nft_ctx_buffer_error) buffer_error;
    decltype(&::nft_ctx_get_output_buffer) output_buffer;
    decltype(&::nft_ctx_get_error_buffer) error_buffer;
    decltype(&::nft_ctx_output_set_flags) set_flags;
    decltype(&::nft_run_cmd_from_buffer) run;
};

const Library& library() {
    static const Library lib = [] {
        void* handle = ::dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!handle)
            throw std::runtime_error(std::string("cannot load libnftables (Debian: apt install "
                                                 "libnftables1): ") +
                                     ::dlerror());
        auto get = [&](const char* name) {
            void* symbol = ::dlsym(handle, name);
            if (!symbol) throw std::runtime_error(std::string("libnftables lacks ") + name);
            return symbol;
        };
        Library l;
        l.ctx_new = reinterpret_cast<decltype(l.ctx_new)>(get("nft_ctx_new"));
        l.ctx_free = reinterpret_cast<decltype(l.ctx_free)>(get("nft_ctx_free"));
        l.buffer_output = reinterpret_cast<decltype(l.buffer_output)>(get("nft_ctx_buffer_output"));
        l.buffer_error = reinterpret_cast<decltype(l.buffer_error)>(get("nft_ctx_buffer_error"));
        l.output_buffer =
            reinterpret_cast<decltype(l.output_buffer)>(get("nft_ctx_get_output_buffer"));
        l.error_buffer =
            reinterpret_cast<decltype(l.error_buffer)>(get("nft_ctx_get_error_buffer"));
        l.set_flags = reinterpret_cast<decltype(l.set_flags)>(get("nft_ctx_output_set_flags"));
        l.run = reinterpret_cast<decltype(l.run)>(get("nft_run_cmd_from_buffer"));
        return l;
    }();
    return lib;
}

nft_ctx* as_ctx(void* p) {
    return static_cast<nft_ctx*>(p);
}

}  // namespace

Context::Context() {
    const Library& lib = library();
    nft_ctx* ctx = lib.ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) throw std::runtime_error("nft_ctx_new failed");
    lib.buffer_output(ctx);
    lib.buffer_error(ctx);
    ctx_ = ctx;
}

Context::~Context() {
    library().ctx_free(as_ctx(ctx_));
}

void Context::run(const std::string& text) {
    const Library& lib = library();
    lib.set_flags(as_ctx(ctx_), 0);
    if (lib.run(as_ctx(ctx_), text.c_str()) == 0) return;
    std::string error = lib.error_buffer(as_ctx(ctx_));
    error = error.substr(0, error.find('\n'));
    throw std::runtime_error("nftables: " + (error.empty() ? "the commands failed" : error));
}

std::string Context::json_of(const std::string& text) {
    const Library& lib = library();
    lib.set_flags(as_ctx(ctx_), NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
    if (lib.run(as_ctx(ctx_), text.c_str()) != 0) return {};
    return lib.output_buffer(as_ctx(ctx_));
}

}  // namespace nslab::nftables

// libFuzzer: parse::id_map ("INSIDE:OUTSIDE:COUNT", --uid-map/--gid-map).
#include "fuzz.hpp"
#include "nslab/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = fuzz::text_of(data, size);
    fuzz::refused_well("--uid-map", text, [&] {
        nslab::IdMapEntry e = nslab::parse::id_map("--uid-map", text);
        // Accepted: a range the kernel can take, and it reads back the same.
        if (e.count == 0 || std::uint64_t{e.inside} + e.count > 0xFFFFFFFFULL ||
            std::uint64_t{e.outside} + e.count > 0xFFFFFFFFULL)
            std::abort();
        const std::string again = std::to_string(e.inside) + ":" + std::to_string(e.outside) + ":" +
                                  std::to_string(e.count);
        if (!(nslab::parse::id_map("--uid-map", again) == e)) std::abort();
    });
    return 0;
}

// libFuzzer: parse::cidr ("10.88.0.2/16", --ip).
#include "fuzz.hpp"
#include "nslab/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = fuzz::text_of(data, size);
    fuzz::refused_well("--ip", text, [&] {
        nslab::Cidr c = nslab::parse::cidr("--ip", text);
        // Accepted: a usable prefix, and the canonical text reads back the same.
        if (c.prefix < 1 || c.prefix > 32) std::abort();
        if (!(nslab::parse::cidr("--ip", nslab::parse::to_string(c)) == c)) std::abort();
    });
    return 0;
}

// libFuzzer: parse::size ("64M", --memory) and the other number parsers.
#include "fuzz.hpp"
#include "nslab/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = fuzz::text_of(data, size);
    fuzz::refused_well("--memory", text, [&] {
        std::uint64_t bytes = nslab::parse::size("--memory", text);
        if (bytes == 0) std::abort();  // zero is refused
        if (nslab::parse::size("--memory", std::to_string(bytes)) != bytes) std::abort();
    });
    fuzz::refused_well("--pids", text, [&] {
        if (nslab::parse::positive("--pids", text) == 0) std::abort();
    });
    fuzz::refused_well("--cpus", text, [&] {
        if (!(nslab::parse::positive_decimal("--cpus", text) > 0)) std::abort();
    });
    fuzz::refused_well("--boottime-offset", text,
                       [&] { nslab::parse::seconds("--boottime-offset", text); });
    fuzz::refused_well("--hostname", text, [&] {
        if (nslab::parse::hostname("--hostname", text).size() > 64) std::abort();
    });
    return 0;
}

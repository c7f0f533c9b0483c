// What every fuzz target checks besides "no crash, no sanitizer report":
// a refused value gets a UsageError that names the option and the whole
// value (docs/reliability.md), and nothing else escapes.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "nslab/errors.hpp"

namespace fuzz {

// Runs parse(); on UsageError checks the message; any other exception
// escapes and libFuzzer reports it as a crash.
template <typename Parse>
void refused_well(std::string_view option, const std::string& text, Parse parse) {
    try {
        parse();
    } catch (const nslab::UsageError& e) {
        const std::string what = e.what();
        if (what.find(option) == std::string::npos) std::abort();  // which option?
        // The value, quoted (unless a newline in it already split the line).
        if (text.find('\n') == std::string::npos &&
            what.find("'" + text + "'") == std::string::npos &&
            what.find(" " + text + ":") == std::string::npos)
            std::abort();  // the message does not name the input
    }
}

// The input as one command-line argument, which cannot hold a NUL byte
// (execve(2) passes C strings): the text up to the first NUL.
inline std::string text_of(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    return text.substr(0, text.find('\0'));
}

}  // namespace fuzz

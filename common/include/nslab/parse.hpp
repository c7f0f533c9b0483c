// Pure parsers for option values. Each throws UsageError with a message that
// names the option and the bad value; unit-tested without root.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/config.hpp"

namespace nslab::parse {

// The one shape of a bad value: "invalid value 'TEXT' for OPTION: WHY".
[[noreturn]] void invalid(std::string_view option, std::string_view text, std::string_view why);

// "64M", "1G", "4096", "512k": bytes (binary units). Zero, negative and
// overflowing sizes are refused.
std::uint64_t size(std::string_view option, std::string_view text);

// A positive whole number (e.g. --pids, a PID).
std::uint64_t positive(std::string_view option, std::string_view text);

// Seconds, may be negative: "-3600", "86400".
std::int64_t seconds(std::string_view option, std::string_view text);

// A positive decimal: "0.5", "2".
double positive_decimal(std::string_view option, std::string_view text);

// "INSIDE:OUTSIDE:COUNT".
IdMapEntry id_map(std::string_view option, std::string_view text);

// "10.88.0.2/16".
Cidr cidr(std::string_view option, std::string_view text);
std::string to_string(const Cidr& cidr);

// A hostname for sethostname(2): 1..64 bytes, letters, digits, '-' and '.',
// no leading or trailing '-' in a label (RFC 1123).
std::string hostname(std::string_view option, std::string_view text);

}  // namespace nslab::parse

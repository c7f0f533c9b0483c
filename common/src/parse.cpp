#include "nslab/parse.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "nslab/errors.hpp"

namespace nslab::parse {

void invalid(std::string_view option, std::string_view text, std::string_view why) {
    throw UsageError("invalid value '" + std::string(text) + "' for " + std::string(option) + ": " +
                     std::string(why));
}

namespace {

// `text` is a part of the value `whole_value` the user gave, which the
// message names (the "a" of "a:b:c" alone would not say which option).
template <typename T>
T whole(std::string_view option, std::string_view text, std::string_view what,
        std::string_view whole_value) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) invalid(option, whole_value, "out of range");
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        invalid(option, whole_value, what);
    return value;
}

template <typename T>
T whole(std::string_view option, std::string_view text, std::string_view what) {
    return whole<T>(option, text, what, text);
}

}  // namespace

std::uint64_t size(std::string_view option, std::string_view text) {
    if (!text.empty() && text.front() == '-') invalid(option, text, "a size cannot be negative");
    std::string_view digits = text;
    std::uint64_t unit = 1;
    if (!digits.empty()) {
        switch (digits.back()) {
            case 'k':
            case 'K':
                unit = 1ULL << 10;
                break;
            case 'm':
            case 'M':
                unit = 1ULL << 20;
                break;
            case 'g':
            case 'G':
                unit = 1ULL << 30;
                break;
            case 't':
            case 'T':
                unit = 1ULL << 40;
                break;
            default:
                break;
        }
        if (unit != 1) digits.remove_suffix(1);
    }
    auto value = whole<std::uint64_t>(option, digits.empty() ? text : digits,
                                      "expected a size such as 4096, 512K, 64M or 1G", text);
    if (value == 0) invalid(option, text, "a size must be greater than 0");
    if (value > std::numeric_limits<std::uint64_t>::max() / unit)
        invalid(option, text, "too large");
    return value * unit;
}

std::uint64_t positive(std::string_view option, std::string_view text) {
    if (!text.empty() && text.front() == '-') invalid(option, text, "must be greater than 0");
    auto value = whole<std::uint64_t>(option, text, "expected a whole number");
    if (value == 0) invalid(option, text, "must be greater than 0");
    return value;
}

std::int64_t seconds(std::string_view option, std::string_view text) {
    return whole<std::int64_t>(option, text, "expected whole seconds, such as 3600 or -60");
}

double positive_decimal(std::string_view option, std::string_view text) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
        !std::isfinite(value))
        invalid(option, text, "expected a number such as 0.5 or 2");
    if (value <= 0) invalid(option, text, "must be greater than 0");
    return value;
}

IdMapEntry id_map(std::string_view option, std::string_view text) {
    IdMapEntry entry;
    std::string_view rest = text;
    std::uint32_t* fields[] = {&entry.inside, &entry.outside, &entry.count};
    for (int i = 0; i < 3; ++i) {
        size_t colon = rest.find(':');
        if ((i < 2) != (colon != std::string_view::npos))
            invalid(option, text, "expected INSIDE:OUTSIDE:COUNT, such as 0:1000:1");
        std::string_view field = rest.substr(0, colon);
        if (!field.empty() && field.front() == '-') invalid(option, text, "ids cannot be negative");
        *fields[i] = whole<std::uint32_t>(option, field,
                                          "expected INSIDE:OUTSIDE:COUNT, such as 0:1000:1", text);
        rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    }
    if (entry.count == 0) invalid(option, text, "COUNT must be at least 1");
    // 4294967295 is the kernel's "no id" ((uid_t)-1) and cannot be mapped.
    constexpr std::uint64_t no_id = 0xFFFFFFFFULL;
    if (std::uint64_t{entry.inside} + entry.count > no_id ||
        std::uint64_t{entry.outside} + entry.count > no_id)
        invalid(option, text, "the range goes past the largest id (4294967294)");
    return entry;
}

Cidr cidr(std::string_view option, std::string_view text) {
    size_t slash = text.find('/');
    if (slash == std::string_view::npos)
        invalid(option, text, "expected ADDRESS/PREFIX, such as 10.88.0.2/16");
    std::string address(text.substr(0, slash));
    in_addr parsed{};
    if (::inet_pton(AF_INET, address.c_str(), &parsed) != 1)
        invalid(option, text, "'" + address + "' is not an IPv4 address");
    int prefix =
        whole<int>(option, text.substr(slash + 1), "expected a prefix length from 1 to 30", text);
    if (prefix < 1 || prefix > 30) invalid(option, text, "the prefix length must be from 1 to 30");
    return Cidr{ntohl(parsed.s_addr), prefix};
}

std::string to_string(const Cidr& cidr) {
    in_addr address{htonl(cidr.address)};
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &address, text, sizeof text);
    return std::string(text) + "/" + std::to_string(cidr.prefix);
}

std::string hostname(std::string_view option, std::string_view text) {
    if (text.empty()) invalid(option, text, "a hostname cannot be empty");
    if (text.size() > 64)
        invalid(option, text, "a hostname has at most 64 characters (HOST_NAME_MAX)");
    size_t label_start = 0;
    for (size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == '.') {
            std::string_view label = text.substr(label_start, i - label_start);
            if (label.empty()) invalid(option, text, "empty label (two dots, or a dot at an end)");
            if (label.front() == '-' || label.back() == '-')
                invalid(option, text, "a label cannot start or end with '-'");
            label_start = i + 1;
            continue;
        }
        char c = text[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) invalid(option, text, "only letters, digits, '-' and '.' are allowed");
    }
    return std::string(text);
}

}  // namespace nslab::parse

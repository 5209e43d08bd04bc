// UTF-8 validity; see utf8.hpp.
#include "text/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace orderstream::text {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

std::size_t sequence_length(std::string_view s, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
    const std::uint8_t b0 = byte(i);
    const std::size_t n = s.size() - i;
    auto continuation = [&](std::size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
    if (b0 < 0x80) return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF) return continuation(i + 1) ? 2 : 0;
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (n < 3 || !continuation(i + 1) || !continuation(i + 2)) return 0;
        const std::uint8_t b1 = byte(i + 1);
        if (b0 == 0xE0 && b1 < 0xA0) return 0;  // overlong
        if (b0 == 0xED && b1 > 0x9F) return 0;  // surrogate
        return 3;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (n < 4 || !continuation(i + 1) || !continuation(i + 2) || !continuation(i + 3)) return 0;
        const std::uint8_t b1 = byte(i + 1);
        if (b0 == 0xF0 && b1 < 0x90) return 0;  // overlong
        if (b0 == 0xF4 && b1 > 0x8F) return 0;  // above U+10FFFF
        return 4;
    }
    return 0;
}

std::size_t valid_prefix(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        if (s.size() - i >= 8) {
            std::uint64_t word;
            std::memcpy(&word, s.data() + i, 8);
            if ((word & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        if (static_cast<std::uint8_t>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        const std::size_t length = sequence_length(s, i);
        if (length == 0) return i;
        i += length;
    }
    return i;
}

std::string_view sanitize(std::string_view s, std::string& scratch) {
    std::size_t i = valid_prefix(s);
    if (i == s.size()) return s;
    scratch.assign(s.substr(0, i));
    while (i < s.size()) {
        const std::size_t length = sequence_length(s, i);
        if (length == 0) {
            scratch.append(replacement);
            ++i;
        } else {
            scratch.append(s.substr(i, length));
            i += length;
        }
    }
    return scratch;
}

}  // namespace orderstream::text

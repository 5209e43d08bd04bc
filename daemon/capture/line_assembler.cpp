// Line splitting, cutting and UTF-8 repair for captured output; see line_assembler.hpp.
#include "capture/line_assembler.hpp"

#include <cstdint>
#include <cstring>

namespace orderstream::capture {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid too).
std::size_t valid_sequence(std::string_view s, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
    std::uint8_t b0 = byte(i);
    std::size_t n = s.size() - i;
    auto continuation = [&](std::size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
    if (b0 < 0x80) return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF) return continuation(i + 1) ? 2 : 0;
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (n < 3 || !continuation(i + 1) || !continuation(i + 2)) return 0;
        std::uint8_t b1 = byte(i + 1);
        if (b0 == 0xE0 && b1 < 0xA0) return 0;  // overlong
        if (b0 == 0xED && b1 > 0x9F) return 0;  // surrogate
        return 3;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (n < 4 || !continuation(i + 1) || !continuation(i + 2) || !continuation(i + 3)) return 0;
        std::uint8_t b1 = byte(i + 1);
        if (b0 == 0xF0 && b1 < 0x90) return 0;  // overlong
        if (b0 == 0xF4 && b1 > 0x8F) return 0;  // above U+10FFFF
        return 4;
    }
    return 0;
}

}  // namespace

std::string_view sanitize_utf8(std::string_view text, std::string& scratch) {
    std::size_t i = 0;
    // Fast path: most output is ASCII or already valid. ASCII goes eight bytes at a time (this
    // check was half of the daemon's CPU time while capturing before).
    while (i < text.size()) {
        if (text.size() - i >= 8) {
            std::uint64_t word;
            std::memcpy(&word, text.data() + i, 8);
            if ((word & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        if (static_cast<std::uint8_t>(text[i]) < 0x80) {
            ++i;
            continue;
        }
        std::size_t length = valid_sequence(text, i);
        if (length == 0) break;
        i += length;
    }
    if (i == text.size()) return text;

    scratch.assign(text.substr(0, i));
    while (i < text.size()) {
        std::size_t length = valid_sequence(text, i);
        if (length == 0) {
            scratch.append(replacement);
            ++i;
        } else {
            scratch.append(text.substr(i, length));
            i += length;
        }
    }
    return scratch;
}

void line_assembler::keep(std::string_view piece) {
    if (cutting_) return;
    std::size_t room = max_line_bytes_ - partial_.size();
    if (piece.size() <= room) {
        partial_.append(piece);
        return;
    }
    // Cut on a character boundary so the kept part stays valid UTF-8.
    std::size_t cut = room;
    while (cut > 0 && (static_cast<std::uint8_t>(piece[cut]) & 0xC0) == 0x80) --cut;
    partial_.append(piece.substr(0, cut));
    cutting_ = true;
}

}  // namespace orderstream::capture

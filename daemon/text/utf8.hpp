// UTF-8 validity, defined once for the whole daemon: the output capture repairs lines with it,
// the order decoder refuses records with it. Overlong forms, surrogates and code points above
// U+10FFFF are invalid, as in nlohmann's parser.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace orderstream::text {

// The length (1 to 4) of the valid sequence starting at s[i], or 0 when it is invalid.
std::size_t sequence_length(std::string_view s, std::size_t i);

// How many bytes of `s` are valid before the first invalid sequence (s.size() when all are).
// ASCII goes eight bytes at a time: most text is ASCII.
std::size_t valid_prefix(std::string_view s);

// Replaces each invalid byte with U+FFFD. Returns `s` itself when it is valid (the common case,
// no copy) and otherwise a view of `scratch`.
std::string_view sanitize(std::string_view s, std::string& scratch);

}  // namespace orderstream::text

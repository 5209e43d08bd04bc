// gzip for the responses served from a shared body: whether a client takes it (Accept-Encoding)
// and the compressed copy itself, made once per body and shared like the body.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace orderstream::http {

// True when an Accept-Encoding value accepts gzip: "gzip" (or "x-gzip", or "*" when gzip is not
// named) with a q-value above 0. Malformed entries are ignored, never an error.
bool accepts_gzip(std::string_view accept_encoding);

// zlib's fastest level: the whole-ring /api/outputs changes as often as a line arrives, so
// compressing it must stay cheap. Files compressed once at start can take the best.
constexpr int gzip_fastest = 1;
constexpr int gzip_best = 9;

// `body` as one gzip member (RFC 1952), or nullopt when zlib cannot (out of memory, a body over
// 2 GiB): then the identity is sent.
std::optional<std::string> gzip(std::string_view body, int level = gzip_fastest);

}  // namespace orderstream::http

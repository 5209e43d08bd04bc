// Splits and decodes an HTTP request target ("/api/outputs?since=5") without trusting it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderstream::http {

struct request_target {
    std::string path;  // percent-decoded
    std::string_view query;

    // Parses the target; nullopt when it is not an origin-form path or has a bad %-escape.
    static std::optional<request_target> parse(std::string_view target);
    // The decoded value of a query parameter, if present.
    std::optional<std::string> param(std::string_view name) const;
    // Path segments between slashes ("/api/clear/email" gives api, clear, email).
    std::vector<std::string_view> segments() const;
};

std::optional<std::string> percent_decode(std::string_view text);

}  // namespace orderstream::http

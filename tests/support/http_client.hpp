// A small blocking HTTP client for tests, with a deadline on every request.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace orderstream::testing {

struct http_reply {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    nlohmann::json json() const { return nlohmann::json::parse(body); }
};

// Throws on connection errors or when the deadline passes.
http_reply http_request(unsigned short port, const std::string& method, const std::string& target,
                        const std::string& body = "",
                        const std::map<std::string, std::string>& headers = {},
                        std::chrono::milliseconds deadline = std::chrono::seconds(10));

inline http_reply http_get(unsigned short port, const std::string& target) {
    return http_request(port, "GET", target);
}
inline http_reply http_post(unsigned short port, const std::string& target) {
    return http_request(port, "POST", target);
}

}  // namespace orderstream::testing

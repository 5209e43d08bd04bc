// Who may use the API: the bearer token (when one is configured), the Host the request was sent
// to (defeats DNS rebinding) and, for state-changing requests, the Origin (defeats CSRF).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace orderstream::http {

class access_policy {
public:
    // `own_hosts`: the "host:port" names this daemon answers to. An empty token: no token needed.
    access_policy(std::string token, std::vector<std::string> own_hosts);

    // A refusal (status and message) for a request to a protected path, or nullopt to go on.
    struct refusal {
        boost::beast::http::status status;
        std::string message;
    };
    std::optional<refusal> check(
        const boost::beast::http::request<boost::beast::http::string_body>& req,
        bool state_changing) const;

    bool token_required() const { return !token_.empty(); }

private:
    bool host_allowed(std::string_view host) const;

    std::string token_;
    std::vector<std::string> own_hosts_;
};

// Compares without an early exit, so response time does not reveal how much of a guess matched.
bool constant_time_equal(std::string_view a, std::string_view b);

// 127.0.0.0/8, ::1 or "localhost".
bool is_loopback_host(std::string_view host);

// The names a daemon listening on host:port answers to: the loopback names and, unless the
// host is a wildcard address, the host itself; plus the configured extra names.
std::vector<std::string> own_hosts_for(const std::string& listen_host, unsigned short port,
                                       const std::vector<std::string>& extra);

}  // namespace orderstream::http

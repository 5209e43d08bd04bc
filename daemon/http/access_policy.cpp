// API access checks; see access_policy.hpp.
#include "http/access_policy.hpp"

#include <algorithm>

namespace orderstream::http {
namespace beast_http = boost::beast::http;

namespace {

std::string_view view(boost::beast::string_view text) { return {text.data(), text.size()}; }

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
    unsigned char difference = a.size() == b.size() ? 0 : 1;
    std::size_t n = std::max(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        difference |= static_cast<unsigned char>(x ^ y);
    }
    return difference == 0;
}

bool is_loopback_host(std::string_view host) {
    if (host == "localhost" || host == "::1" || host == "[::1]") return true;
    return host.substr(0, 4) == "127.";
}

std::vector<std::string> own_hosts_for(const std::string& listen_host, unsigned short port,
                                       const std::vector<std::string>& extra) {
    std::string suffix = ":" + std::to_string(port);
    std::vector<std::string> hosts{"127.0.0.1" + suffix, "localhost" + suffix, "[::1]" + suffix};
    bool wildcard = listen_host == "0.0.0.0" || listen_host == "::";
    if (!wildcard) {
        std::string self = listen_host.find(':') != std::string::npos ? "[" + listen_host + "]" : listen_host;
        hosts.push_back(self + suffix);
    }
    for (const auto& host : extra) hosts.push_back(host);
    for (auto& host : hosts) host = lower(host);
    return hosts;
}

access_policy::access_policy(std::string token, std::vector<std::string> own_hosts)
    : token_(std::move(token)), own_hosts_(std::move(own_hosts)) {}

bool access_policy::host_allowed(std::string_view host) const {
    auto name = lower(host);
    return std::find(own_hosts_.begin(), own_hosts_.end(), name) != own_hosts_.end();
}

std::optional<access_policy::refusal> access_policy::check(
    const beast_http::request<beast_http::string_body>& req, bool state_changing) const {
    auto host = view(req[beast_http::field::host]);
    // Without a token, only requests addressed to our own name are served: a page on another
    // site that rebinds its DNS name to 127.0.0.1 still sends its own name as Host. With a token,
    // such a page cannot authenticate, and the daemon may be reached under names we cannot know.
    if (!token_required() && !host_allowed(host))
        return refusal{beast_http::status::forbidden,
                       "Host \"" + std::string(host) + "\" is not this daemon's address; add it to http.allowed_hosts"};
    if (token_required()) {
        auto authorization = view(req[beast_http::field::authorization]);
        constexpr std::string_view scheme = "Bearer ";
        bool ok = authorization.size() > scheme.size() &&
                  lower(authorization.substr(0, scheme.size())) == "bearer " &&
                  constant_time_equal(authorization.substr(scheme.size()), token_);
        if (!ok) return refusal{beast_http::status::unauthorized, "missing or wrong access token (Authorization: Bearer …)"};
    }
    if (state_changing) {
        auto origin = view(req[beast_http::field::origin]);
        if (!origin.empty()) {
            std::string expected_http = "http://" + lower(host), expected_https = "https://" + lower(host);
            std::string actual = lower(origin);
            if (host.empty() || (actual != expected_http && actual != expected_https))
                return refusal{beast_http::status::forbidden,
                               "cross-origin request refused (Origin \"" + std::string(origin) + "\")"};
        } else if (host.empty()) {
            return refusal{beast_http::status::forbidden, "a request that changes state needs a Host header"};
        }
    }
    return std::nullopt;
}

}  // namespace orderstream::http

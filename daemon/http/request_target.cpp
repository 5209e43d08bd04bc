// Request target parsing; see request_target.hpp.
#include "http/request_target.hpp"

namespace orderstream::http {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        int high = hex_value(text[i + 1]), low = hex_value(text[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
    }
    return out;
}

std::optional<request_target> request_target::parse(std::string_view target) {
    if (target.empty() || target.front() != '/') return std::nullopt;
    auto question = target.find('?');
    std::string_view raw_path = target.substr(0, question);
    auto path = percent_decode(raw_path);
    if (!path) return std::nullopt;
    request_target result;
    result.path = std::move(*path);
    if (question != std::string_view::npos) result.query = target.substr(question + 1);
    return result;
}

std::optional<std::string> request_target::param(std::string_view name) const {
    std::string_view rest = query;
    while (!rest.empty()) {
        auto amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        auto equals = pair.find('=');
        if (pair.substr(0, equals) != name) continue;
        if (equals == std::string_view::npos) return std::string();
        return percent_decode(pair.substr(equals + 1));
    }
    return std::nullopt;
}

std::vector<std::string_view> request_target::segments() const {
    std::vector<std::string_view> parts;
    std::string_view rest = path;
    while (!rest.empty()) {
        if (rest.front() == '/') {
            rest.remove_prefix(1);
            continue;
        }
        auto slash = rest.find('/');
        parts.push_back(rest.substr(0, slash));
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    }
    return parts;
}

}  // namespace orderstream::http

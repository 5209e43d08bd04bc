// Static asset lookup; see static_files.hpp.
#include "http/static_files.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "http/content_coding.hpp"
#include "http/web_assets.hpp"

namespace orderstream::http {
namespace fs = std::filesystem;

namespace {

// Rejects anything that is not a plain relative file name made of plain segments: "..", ".",
// empty segments, backslashes and NUL bytes never name an asset.
bool is_plain_path(std::string_view path) {
    if (path.size() < 2 || path.front() != '/') return false;
    std::string_view rest = path.substr(1);
    while (true) {
        auto slash = rest.find('/');
        std::string_view segment = rest.substr(0, slash);
        if (segment.empty() || segment == "." || segment == "..") return false;
        for (char c : segment)
            if (c == '\\' || c == '\0' || static_cast<unsigned char>(c) < 0x20) return false;
        if (slash == std::string_view::npos) return true;
        rest.remove_prefix(slash + 1);
    }
}

}  // namespace

std::string_view content_type_for(std::string_view path) {
    auto ends_with = [&](std::string_view suffix) {
        return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
    };
    if (ends_with(".html")) return "text/html; charset=utf-8";
    if (ends_with(".js")) return "text/javascript; charset=utf-8";
    if (ends_with(".css")) return "text/css; charset=utf-8";
    if (ends_with(".json")) return "application/json";
    if (ends_with(".svg")) return "image/svg+xml";
    if (ends_with(".png")) return "image/png";
    if (ends_with(".ico")) return "image/x-icon";
    return "application/octet-stream";
}

static_files::static_files(std::string web_root) {
    if (!web_root.empty()) {
        web_root_ = fs::canonical(web_root).string();
        return;
    }
    // A 64-bit FNV-1a of each file: enough to tell one build's file from another's. The gzipped
    // copy is made once here, and is another representation, so it has an ETag of its own.
    for (const auto& [path, body] : web_assets()) {
        std::uint64_t hash = 1469598103934665603ull;
        for (unsigned char c : body) hash = (hash ^ c) * 1099511628211ull;
        char text[24];
        std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
        validators file{"\"" + std::string(text) + "\"", gzip(body, gzip_best).value_or(""),
                        "\"" + std::string(text) + "-gzip\""};
        if (file.gzip_body.size() >= body.size()) {  // not worth it: the identity only
            file.gzip_body.clear();
            file.gzip_etag.clear();
        }
        built_in_.emplace(path, std::move(file));
    }
}

std::optional<embedded_file> static_files::embedded(std::string_view path) const {
    if (!web_root_.empty()) return std::nullopt;
    if (path == "/") path = "/index.html";
    const auto& assets = web_assets();
    auto found = assets.find(path);
    if (found == assets.end()) return std::nullopt;
    const auto& file = built_in_.at(found->first);
    return embedded_file{found->second, content_type_for(path), file.etag, file.gzip_body, file.gzip_etag};
}

std::optional<static_file> static_files::find(std::string_view path) const {
    if (path == "/") path = "/index.html";
    if (!is_plain_path(path)) return std::nullopt;

    if (web_root_.empty()) {
        const auto& assets = web_assets();
        auto found = assets.find(path);
        if (found == assets.end()) return std::nullopt;
        return static_file{std::string(found->second), content_type_for(path)};
    }

    // Development mode: the file must still resolve (symlinks included) inside the root.
    std::error_code error;
    fs::path resolved = fs::weakly_canonical(fs::path(web_root_) / std::string(path.substr(1)), error);
    if (error) return std::nullopt;
    auto relative = resolved.lexically_relative(web_root_);
    if (relative.empty() || *relative.begin() == "..") return std::nullopt;
    if (!fs::is_regular_file(resolved, error)) return std::nullopt;
    std::ifstream file(resolved, std::ios::binary);
    std::ostringstream body;
    body << file.rdbuf();
    return static_file{body.str(), content_type_for(path)};
}

bool none_match_hits(std::string_view if_none_match, std::string_view etag) {
    constexpr std::string_view space = " \t";
    const auto opaque = [](std::string_view tag) { return tag.substr(0, 2) == "W/" ? tag.substr(2) : tag; };
    const auto trimmed = [&](std::string_view text) {
        const auto first = text.find_first_not_of(space);
        if (first == std::string_view::npos) return std::string_view();
        return text.substr(first, text.find_last_not_of(space) - first + 1);
    };
    if (trimmed(if_none_match) == "*") return true;
    const auto wanted = opaque(etag);
    bool hit = false;  // decided once the whole list has been read: a malformed one matches nothing
    for (std::size_t at = 0; at < if_none_match.size();) {
        // An entity tag is [W/]"chars": the quotes decide where it ends, not the commas.
        at = if_none_match.find_first_not_of(" \t,", at);
        if (at == std::string_view::npos) break;
        const auto open = if_none_match.compare(at, 2, "W/") == 0 ? at + 2 : at;
        if (open >= if_none_match.size() || if_none_match[open] != '"') return false;
        const auto close = if_none_match.find('"', open + 1);
        if (close == std::string_view::npos) return false;
        hit = hit || if_none_match.substr(open, close - open + 1) == wanted;
        at = close + 1;
    }
    return hit;
}

}  // namespace orderstream::http

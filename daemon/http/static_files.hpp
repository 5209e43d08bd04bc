// Finds the monitor page's files: built into the binary, or from --web-root during development.
// Nothing outside those files can be reached, whatever the path says.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace orderstream::http {

struct static_file {
    std::string body;
    std::string_view content_type;
};

// A file built into the binary, served without a copy: its bytes are static, and the gzipped
// copy is made once and lives as long as static_files (the router, which outlives its sessions).
struct embedded_file {
    std::string_view body;
    std::string_view content_type;
    std::string_view etag;  // "\"…\"", a hash of the bytes
    // The same bytes gzipped, and their own ETag; empty where gzip would not make them smaller.
    std::string_view gzip_body;
    std::string_view gzip_etag;
};

class static_files {
public:
    // Empty web_root: the embedded assets.
    explicit static_files(std::string web_root);
    // `path` is the decoded request path; "/" means "/index.html".
    std::optional<static_file> find(std::string_view path) const;
    // The same from the built-in files only; nullopt with --web-root (files on disk may change).
    std::optional<embedded_file> embedded(std::string_view path) const;

private:
    std::string web_root_;  // canonical, or empty
    struct validators {
        std::string etag, gzip_body, gzip_etag;
    };
    std::map<std::string_view, validators> built_in_;  // by path, of the built-in files
};

std::string_view content_type_for(std::string_view path);

// If-None-Match by RFC 9110 (13.1.2): "*", or a list of entity tags of which one equals `etag`
// by the weak comparison (W/"x" matches "x"). A malformed list matches nothing, so the whole
// file is sent.
bool none_match_hits(std::string_view if_none_match, std::string_view etag);

}  // namespace orderstream::http

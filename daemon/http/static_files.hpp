// Finds the monitor page's files: built into the binary, or from --web-root during development.
// Nothing outside those files can be reached, whatever the path says.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace orderstream::http {

struct static_file {
    std::string body;
    std::string_view content_type;
};

class static_files {
public:
    // Empty web_root: the embedded assets.
    explicit static_files(std::string web_root);
    // `path` is the decoded request path; "/" means "/index.html".
    std::optional<static_file> find(std::string_view path) const;

private:
    std::string web_root_;  // canonical, or empty
};

std::string_view content_type_for(std::string_view path);

}  // namespace orderstream::http

// The monitor page's files, compiled into the binary from web/static by web/embed.cmake.
#pragma once

#include <map>
#include <string_view>

namespace orderstream::http {

// Path ("/index.html") to content. Lookups are exact, so nothing outside web/static is reachable.
const std::map<std::string_view, std::string_view>& web_assets();

}  // namespace orderstream::http

// Hand-rolled JSON output for the hot endpoints (terminal lines), where building an nlohmann
// tree for thousands of lines per poll would cost more than the response itself.
#pragma once

#include <string>
#include <string_view>

namespace orderstream::http {

// Appends `text` as a quoted JSON string. `text` must be valid UTF-8 (captured lines are).
void append_json_string(std::string& out, std::string_view text);

// Removes ANSI escape sequences (colours, cursor moves) for clients that asked for plain text.
std::string_view strip_ansi(std::string_view text, std::string& scratch);

}  // namespace orderstream::http

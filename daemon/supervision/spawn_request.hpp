// What to start: the command, its arguments and environment, and how its output is cut.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace orderstream::supervision {

struct spawn_request {
    std::string command;  // a path, or a name looked up in PATH
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> environment;  // added to the daemon's own
    std::size_t max_line_bytes = 16 * 1024;
    // The orderstream binary, whose `reap` mode the command runs under; run directly if empty.
    std::string reaper;
};

}  // namespace orderstream::supervision

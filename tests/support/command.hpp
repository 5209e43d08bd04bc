// Runs an external program (kcat, the cluster script, a shell line) with a deadline and captures its output.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace orderstream::testing {

struct command_result {
    int exit_code = -1;  // -1: killed at the deadline or by a signal
    bool timed_out = false;
    std::string out;  // stdout
    std::string err;  // stderr
    bool ok() const { return exit_code == 0; }
    // For failure messages: the command line, its exit and both streams.
    std::string describe() const;
    std::string command_line;
};

// Runs argv[0] (PATH is searched) in its own process group; at the deadline the group is
// SIGKILLed. Children that leave the group (the cluster script's JVMs use setsid) survive it.
command_result run_command(const std::vector<std::string>& argv, std::chrono::seconds timeout);

}  // namespace orderstream::testing

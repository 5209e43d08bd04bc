// `orderstream reap --parent PID -- COMMAND ARGS...`: the small process each child runs under,
// so that no descendant outlives the daemon. It marks itself a child subreaper (orphans below
// it are re-parented to it, never to init, so they stay in its tree) and runs the command as
// its own child. When the command exits, it stops what the command left behind (SIGTERM, then
// SIGKILL after a second) and exits as the command did. When the daemon dies, even by
// SIGKILL, the kernel signals it (parent-death signal) and it kills everything below it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace orderstream::supervision {

inline constexpr const char* reap_command = "reap";
// How long what a command left behind has after SIGTERM before SIGKILL.
inline constexpr std::chrono::milliseconds leftover_grace{1000};

// The arguments that run `command` under the reaper of the current process.
std::vector<std::string> reaper_arguments(const std::string& command, const std::vector<std::string>& args);

// argv after "reap"; returns the exit code (or does not return: it dies of the command's signal).
int reaper_main(int argc, char** argv);

}  // namespace orderstream::supervision

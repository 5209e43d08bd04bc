// `orderstream run`: wires the Kafka cluster, the supervisor, the terminals and the web monitor
// onto one event loop, and shuts them down in order on SIGINT/SIGTERM.
#pragma once

#include "config/daemon_config.hpp"

namespace orderstream::app {

// Returns the process exit code. Throws std::runtime_error for start-up failures (cannot
// listen, embedded cluster fails), which main reports.
int run_daemon(const config::daemon_config& config);

}  // namespace orderstream::app

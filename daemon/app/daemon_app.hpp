// `orderstream run`: wires the Kafka cluster, the supervisor, the terminals and the web monitor
// onto one event loop, and shuts them down in order on SIGINT/SIGTERM.
#pragma once

#include <functional>

#include "config/daemon_config.hpp"

namespace orderstream::app {

// Returns the process exit code. Throws std::runtime_error for start-up failures (cannot
// listen, embedded cluster fails), which main reports.
// `reload_config` reads the config file again (SIGHUP, POST /api/reload) and throws
// config::config_error for a config with errors; none when the daemon has no config file.
int run_daemon(const config::daemon_config& config, std::function<config::daemon_config()> reload_config = nullptr);

}  // namespace orderstream::app

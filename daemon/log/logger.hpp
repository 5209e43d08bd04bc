// The daemon's named loggers (one per subsystem), all writing to the same sinks.
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace orderstream::log {

// The logger for a subsystem ("supervisor", "http", "kafka", "capture", "main"); created on first
// use with the sinks configure() chose, so code and tests never see a missing logger.
std::shared_ptr<spdlog::logger> get(const std::string& subsystem);

// Under systemd (JOURNAL_STREAM set) lines get "<N>" syslog priority prefixes and no timestamps,
// since the journal adds its own; otherwise timestamped lines go to stderr.
void configure(const std::string& level);

}  // namespace orderstream::log

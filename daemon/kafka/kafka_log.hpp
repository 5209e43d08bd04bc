// The "kafka" spdlog logger: diagnostics of the Kafka commands go to stderr, because their
// stdout is the product the supervisor captures and shows.
#pragma once

#include <memory>

#include <spdlog/spdlog.h>

namespace orderstream::kafka {

// The logger registered as "kafka" if the application made one, else a stderr logger.
std::shared_ptr<spdlog::logger> kafka_log();

}  // namespace orderstream::kafka

// Finds or makes the "kafka" logger.
#include "kafka/kafka_log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace orderstream::kafka {

std::shared_ptr<spdlog::logger> kafka_log() {
    if (auto registered = spdlog::get("kafka")) return registered;
    // Not registered, so an application that registers its own "kafka" logger later does not
    // collide with it (spdlog throws on duplicate names).
    static const auto fallback = std::make_shared<spdlog::logger>(
        "kafka", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    return fallback;
}

}  // namespace orderstream::kafka

// Named spdlog loggers sharing one sink; see logger.hpp.
#include "log/logger.hpp"

#include <cstdlib>
#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace orderstream::log {
namespace {

// Maps spdlog levels to the sd-daemon(3) priority prefixes the journal understands.
class syslog_priority_flag : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        static constexpr const char* prefixes[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
        const char* prefix = prefixes[static_cast<int>(msg.level)];
        dest.append(prefix, prefix + 3);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<syslog_priority_flag>();
    }
};

std::mutex mutex;
spdlog::sink_ptr shared_sink;
spdlog::level::level_enum shared_level = spdlog::level::info;

spdlog::sink_ptr sink() {
    if (!shared_sink) {
        shared_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        shared_sink->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v");
    }
    return shared_sink;
}

}  // namespace

std::shared_ptr<spdlog::logger> get(const std::string& subsystem) {
    std::lock_guard lock(mutex);
    if (auto existing = spdlog::get(subsystem)) return existing;
    auto logger = std::make_shared<spdlog::logger>(subsystem, sink());
    logger->set_level(shared_level);
    spdlog::register_logger(logger);
    return logger;
}

void configure(const std::string& level) {
    std::lock_guard lock(mutex);
    shared_level = spdlog::level::from_str(level);
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    if (std::getenv("JOURNAL_STREAM")) {
        formatter->add_flag<syslog_priority_flag>('*').set_pattern("%*[%n] %v");
    } else {
        formatter->set_pattern("%Y-%m-%d %H:%M:%S.%e %-5l [%n] %v");
    }
    sink()->set_formatter(std::move(formatter));
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& logger) {
        logger->set_level(shared_level);
    });
}

}  // namespace orderstream::log

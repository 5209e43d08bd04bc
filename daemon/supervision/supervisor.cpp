// Starting, routing and stopping all supervised processes; see supervisor.hpp.
#include "supervision/supervisor.hpp"

#include <boost/asio/post.hpp>

#include "log/logger.hpp"

namespace orderstream::supervision {

supervisor::supervisor(boost::asio::io_context& io,
                       const std::vector<config::process_config>& processes,
                       capture::output_store& store, supervisor_options options)
    : io_(io), options_(std::move(options)) {
    for (const auto& process : processes) {
        auto terminal = store.find(process.terminal);
        if (!terminal) throw std::invalid_argument("no terminal \"" + process.terminal + "\"");
        spawn_request request;
        request.command = process.command.empty() ? options_.self_executable : process.command;
        request.args = process.args;
        request.reaper = options_.self_executable;
        request.environment = options_.child_environment;
        request.max_line_bytes = options_.max_line_bytes;
        auto on_line = [&store, index = *terminal](std::string_view line) {
            store.append(index, line);
        };
        processes_.push_back(std::make_unique<supervised_process>(
            io_, process, std::move(request), std::move(on_line),
            [this](const supervised_process& p, process_state from) { state_changed(p, from); }));
    }
}

void supervisor::start_all() {
    for (auto& process : processes_) process->start();
}

void supervisor::stop_all(std::function<void()> on_stopped) {
    on_stopped_ = std::move(on_stopped);
    shutting_down_ = true;
    for (auto& process : processes_) process->stop(options_.stop_grace);
    check_all_stopped();
}

supervised_process* supervisor::find(std::string_view name) {
    for (auto& process : processes_)
        if (process->config().name == name) return process.get();
    return nullptr;
}

void supervisor::state_changed(const supervised_process& process, process_state from) {
    auto logger = log::get("supervisor");
    auto to = process.state();
    if (to == process_state::backoff) {
        logger->warn("{}: {} -> {} ({}); next start in {} ms", process.config().name,
                     to_string(from), to_string(to), process.last_exit().value_or("?"),
                     process.next_backoff().count());
    } else if (to == process_state::fatal || to == process_state::exited) {
        // A process that ended by itself with exit code 0 did its job (e.g. a producer of N orders).
        bool clean = to == process_state::exited && process.last_exit() == "exit code 0";
        logger->log(clean ? spdlog::level::info : spdlog::level::err, "{}: {} -> {} ({})", process.config().name,
                    to_string(from), to_string(to), process.last_exit().value_or("?"));
    } else {
        logger->info("{}: {} -> {}{}", process.config().name, to_string(from), to_string(to),
                     process.pid() ? " (pid " + std::to_string(*process.pid()) + ")" : "");
    }
    if (listener_) listener_(process, from);
    if (on_stopped_) check_all_stopped();
}

void supervisor::check_all_stopped() {
    if (!on_stopped_) return;
    for (auto& process : processes_)
        if (!is_at_rest(process->state())) return;
    // Posted, so the caller of the last state change finishes before shutdown goes on.
    boost::asio::post(io_, std::move(on_stopped_));
    on_stopped_ = nullptr;
}

}  // namespace orderstream::supervision

// Starting, routing and stopping all supervised processes; see supervisor.hpp.
#include "supervision/supervisor.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "log/logger.hpp"

namespace orderstream::supervision {

supervisor::supervisor(boost::asio::io_context& io,
                       const std::vector<config::process_config>& processes,
                       capture::output_store& store, supervisor_options options)
    : io_(io), store_(store), options_(std::move(options)) {
    for (const auto& process : processes) {
        if (!store.find(process.terminal)) throw std::invalid_argument("no terminal \"" + process.terminal + "\"");
        processes_.push_back(make_process(process));
    }
}

std::unique_ptr<supervised_process> supervisor::make_process(const config::process_config& process) {
    spawn_request request;
    request.command = process.command.empty() ? options_.self_executable : process.command;
    request.args = process.args;
    request.reaper = options_.self_executable;
    request.environment = options_.child_environment;
    request.max_line_bytes = options_.max_line_bytes;
    auto on_line = [&store = store_, index = store_.find_or_add(process.terminal)](std::string_view line) {
        store.append(index, line);
    };
    return std::make_unique<supervised_process>(
        io_, process, std::move(request), std::move(on_line),
        [this](const supervised_process& p, process_state from) { state_changed(p, from); });
}

update_result supervisor::update(const std::vector<config::process_config>& processes) {
    update_result result;
    std::map<std::string, const config::process_config*> wanted;
    for (const auto& process : processes) wanted[process.name] = &process;
    // Removed and changed: stopped first; retire() drops or replaces them once at rest.
    for (auto& process : processes_) {
        const auto& name = process->config().name;
        auto found = wanted.find(name);
        auto retiring = retiring_.find(name);
        if (found == wanted.end()) {
            result.removed.push_back(name);
            retiring_[name] = std::nullopt;
        } else if (retiring != retiring_.end() ? retiring->second != *found->second : process->config() != *found->second) {
            result.changed.push_back(name);
            retiring_[name] = *found->second;
        } else {
            result.unchanged.push_back(name);
            continue;
        }
        process->stop(options_.stop_grace);
        if (is_at_rest(process->state())) boost::asio::post(io_, [this, name] { retire(name); });
    }
    for (const auto& process : processes) {
        if (find(process.name)) continue;
        result.added.push_back(process.name);
        processes_.push_back(make_process(process));
        processes_.back()->start();
    }
    if (list_listener_) list_listener_();
    return result;
}

void supervisor::retire(const std::string& name) {
    auto retiring = retiring_.find(name);
    if (retiring == retiring_.end()) return;
    auto it = std::find_if(processes_.begin(), processes_.end(),
                           [&](const auto& p) { return p->config().name == name; });
    if (it == processes_.end() || !is_at_rest((*it)->state())) return;
    auto successor = std::move(retiring->second);
    retiring_.erase(retiring);
    auto logger = log::get("supervisor");
    if (!successor) {
        logger->info("{}: removed by a reload", name);
        processes_.erase(it);
        if (list_listener_) list_listener_();
        return;
    }
    logger->info("{}: starting again with its reloaded settings", name);
    *it = make_process(*successor);
    if (!shutting_down_) (*it)->start();
    if (list_listener_) list_listener_();
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
    if (to == from) {  // no change of state: the command's pid became known
        if (process.pid()) logger->info("{}: running as pid {}", process.config().name, *process.pid());
    } else if (to == process_state::backoff) {
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
    if (retiring_.count(process.config().name) && is_at_rest(to))
        boost::asio::post(io_, [this, name = process.config().name] { retire(name); });
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

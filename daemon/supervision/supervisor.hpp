// Owns every supervised process: starts them, routes their output into the terminals, and
// stops them all (SIGTERM, then SIGKILL after the grace period) on shutdown.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "capture/output_store.hpp"
#include "config/daemon_config.hpp"
#include "supervision/supervised_process.hpp"

namespace orderstream::supervision {

struct supervisor_options {
    // The orderstream binary: runs processes whose command is empty, and the reaper every child
    // runs under (none when empty).
    std::string self_executable;
    std::vector<std::pair<std::string, std::string>> child_environment;
    std::size_t max_line_bytes = 16 * 1024;
    std::chrono::milliseconds stop_grace{10000};
};

// What a reload changed, by process name.
struct update_result {
    std::vector<std::string> added, removed, changed, unchanged;
};

class supervisor {
public:
    using state_listener = supervised_process::state_listener;

    // Terminals in `store` must exist for every process's terminal.
    supervisor(boost::asio::io_context& io, const std::vector<config::process_config>& processes,
               capture::output_store& store, supervisor_options options);

    void start_all();
    // Calls on_stopped once every child is gone (at once if none runs). From then on the
    // supervisor is shutting down: nothing may start again.
    void stop_all(std::function<void()> on_stopped);
    bool shutting_down() const { return shutting_down_; }

    // Applies a reloaded list of processes, as supervisord's `update` does: added ones start,
    // removed ones stop and go, changed ones stop and start again with their new settings, and
    // unchanged ones are not touched (same pid). New terminals are added to the store.
    update_result update(const std::vector<config::process_config>& processes);

    supervised_process* find(std::string_view name);
    const std::vector<std::unique_ptr<supervised_process>>& processes() const { return processes_; }
    std::chrono::milliseconds stop_grace() const { return options_.stop_grace; }
    // Called after every state change of any process (besides the supervisor's own logging).
    void on_state_change(state_listener listener) { listener_ = std::move(listener); }
    // Called when a reload added, removed or replaced a process.
    void on_list_change(std::function<void()> listener) { list_listener_ = std::move(listener); }

private:
    std::unique_ptr<supervised_process> make_process(const config::process_config& process);
    void state_changed(const supervised_process& process, process_state from);
    // Replaces (or drops) a retiring process once it is at rest.
    void retire(const std::string& name);
    void check_all_stopped();

    boost::asio::io_context& io_;
    capture::output_store& store_;
    supervisor_options options_;
    std::vector<std::unique_ptr<supervised_process>> processes_;
    state_listener listener_;
    std::function<void()> list_listener_;
    std::function<void()> on_stopped_;
    bool shutting_down_ = false;
    // Processes stopping because a reload removed them (nullopt) or changed them (their new
    // settings), by name.
    std::map<std::string, std::optional<config::process_config>> retiring_;
};

}  // namespace orderstream::supervision

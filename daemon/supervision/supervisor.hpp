// Owns every supervised process: starts them in dependency order, runs N copies of those with
// `instances`, routes their output into the terminals (tagged by copy when there are several),
// restarts copies that stall, and stops them all (SIGTERM, then SIGKILL after the grace period)
// on shutdown.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "capture/output_store.hpp"
#include "config/daemon_config.hpp"
#include "supervision/notify_socket.hpp"
#include "supervision/supervised_process.hpp"
#include "supervision/system_calls.hpp"

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

    // Terminals in `store` must exist for every process's terminal. `calls`: the real ones
    // when null (a test passes a fake).
    supervisor(boost::asio::io_context& io, const std::vector<config::process_config>& processes,
               capture::output_store& store, supervisor_options options,
               std::shared_ptr<system_calls> calls = nullptr);

    // Starts every copy whose dependencies are ready; the others wait for them.
    void start_all();
    // Calls on_stopped once every child is gone (at once if none runs). From then on the
    // supervisor is shutting down: nothing may start again.
    void stop_all(std::function<void()> on_stopped);
    bool shutting_down() const { return shutting_down_; }

    // Applies a reloaded list of processes, as supervisord's `update` does: added ones start,
    // removed ones stop and go, changed ones stop and start again with their new settings, and
    // unchanged ones are not touched (same pid). A changed `instances` scales to it; otherwise
    // a count set through scale() stays. New terminals are added to the store.
    update_result update(const std::vector<config::process_config>& processes);

    // Runs `instances` copies of the configured process `name` (1 to max_instances): new copies
    // start, surplus ones (the highest numbered) stop gracefully and go. Returns an error.
    std::optional<std::string> scale(std::string_view name, int instances);
    // How many copies the configured process `name` runs now (0: no such process).
    int instances(std::string_view name) const;

    // By hand (the API): a start overrides a dependency hold, a stop cancels it. A copy on its
    // way out (a scale-down, a reload) cannot be started or restarted, nor anything once the
    // supervisor is shutting down: returns why.
    std::optional<std::string> start(supervised_process& copy);
    void stop(supervised_process& copy);
    std::optional<std::string> restart(supervised_process& copy);

    // A notice from the notify socket: the copy the sender belongs to takes it.
    void notice(const notice& received);
    // The copies whose partitions are stalled now (by name); those stalled for their
    // restart_when_stalled_seconds are restarted.
    void check_stalls(const std::set<std::string>& stalled, std::chrono::steady_clock::time_point now);

    supervised_process* find(std::string_view name);
    // Every copy, those of one process next to each other.
    const std::vector<std::unique_ptr<supervised_process>>& processes() const { return processes_; }
    std::chrono::milliseconds stop_grace() const { return options_.stop_grace; }
    // Called after every state change of any process (besides the supervisor's own logging).
    void on_state_change(state_listener listener) { listener_ = std::move(listener); }
    // Called when a reload or a scale added, removed or replaced a copy.
    void on_list_change(std::function<void()> listener) { list_listener_ = std::move(listener); }

private:
    struct program {
        config::process_config config;  // as configured (its name is the first copy's)
        int instances = 1;               // copies wanted now
        // Read by the copies' line handlers, which may outlive the program.
        std::shared_ptr<int> copies = std::make_shared<int>(1);
    };
    // A copy that is stopping to be replaced (with these settings) or removed (none).
    struct successor {
        config::process_config config;
        int instance = 1;
    };

    program* find_program(std::string_view name);
    std::unique_ptr<supervised_process> make_process(const program& owner, int instance);
    void add_copy(program& owner, int instance);
    void resize(program& owner, int instances);
    // Lines are tagged while more than one copy of the process exists, those leaving included.
    void recount(program& owner);
    // Starts the copy if what it depends on is ready, else holds it back (with the reason).
    void start_when_ready(supervised_process& copy);
    void release_held();
    std::optional<std::string> dependencies_block(const config::process_config& config, bool& failed) const;
    void state_changed(const supervised_process& process, process_state from);
    // Replaces (or drops) a retiring copy once it is at rest.
    void retire(const std::string& name);
    void retire_when_stopped(supervised_process& copy, std::optional<successor> next);
    void check_all_stopped();

    boost::asio::io_context& io_;
    std::shared_ptr<system_calls> calls_;
    capture::output_store& store_;
    supervisor_options options_;
    std::vector<program> programs_;
    std::vector<std::unique_ptr<supervised_process>> processes_;
    state_listener listener_;
    std::function<void()> list_listener_;
    std::function<void()> on_stopped_;
    bool started_ = false;
    bool shutting_down_ = false;
    std::set<std::string> waiting_;  // copies held back until their dependencies are ready
    std::map<std::string, std::optional<successor>> retiring_;  // by copy name
};

}  // namespace orderstream::supervision

// One configured process and its lifecycle: start, restart with backoff, give up, stop.
// Every state change goes through change_state(), as in supervisord's process.py.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/daemon_config.hpp"
#include "supervision/child_process.hpp"
#include "supervision/process_state.hpp"

namespace orderstream::supervision {

class supervised_process {
public:
    using state_listener = std::function<void(const supervised_process&, process_state from)>;

    supervised_process(boost::asio::io_context& io, config::process_config config,
                       spawn_request request, child_process::line_handler on_line,
                       state_listener on_change);
    ~supervised_process();
    supervised_process(const supervised_process&) = delete;
    supervised_process& operator=(const supervised_process&) = delete;

    // From any state at rest, or BACKOFF: start now (the quick-failure count starts afresh).
    void start();
    // SIGTERM to the child, SIGKILL after `grace`; from BACKOFF it simply stays down.
    void stop(std::chrono::milliseconds grace);
    // Stop if needed, then start once the child is gone.
    void restart(std::chrono::milliseconds grace);

    const config::process_config& config() const { return config_; }
    process_state state() const { return state_; }
    std::optional<pid_t> pid() const;
    // Seconds in the current run, while a child is alive.
    std::optional<double> uptime_seconds() const;
    int restarts() const { return restarts_; }
    const std::optional<std::string>& last_exit() const { return last_exit_; }
    // Delay before the next start while in BACKOFF.
    std::chrono::milliseconds next_backoff() const;

private:
    void spawn();
    void on_child_exit(int status);
    void change_state(process_state next);
    void schedule(boost::asio::steady_timer& timer, std::chrono::milliseconds delay,
                  void (supervised_process::*step)());
    void on_stable();
    void on_backoff_elapsed();
    void on_grace_elapsed();
    void on_pid_check();

    boost::asio::io_context& io_;
    config::process_config config_;
    spawn_request request_;
    child_process::line_handler on_line_;
    state_listener on_change_;

    process_state state_ = process_state::stopped;
    std::shared_ptr<child_process> child_;
    std::chrono::steady_clock::time_point started_at_;
    int quick_failures_ = 0;
    int spawns_ = 0;
    int restarts_ = 0;
    bool start_after_stop_ = false;
    bool kill_sent_ = false;  // SIGKILL sent in this stop
    std::optional<std::string> last_exit_;
    boost::asio::steady_timer stable_timer_;
    boost::asio::steady_timer backoff_timer_;
    boost::asio::steady_timer kill_timer_;
    boost::asio::steady_timer pid_timer_;
    int pid_checks_ = 0;
    // Handlers hold a weak reference, so none runs after this object is gone.
    std::shared_ptr<supervised_process*> alive_;
};

}  // namespace orderstream::supervision

// One configured process and its lifecycle: start, restart with backoff, give up, stop.
// Every state change goes through change_state(), as in supervisord's process.py.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/daemon_config.hpp"
#include "supervision/process_state.hpp"
#include "supervision/spawn_request.hpp"
#include "supervision/system_calls.hpp"

namespace orderstream::supervision {

// What happened to a process and why, newest last (the page and /api/processes show it).
struct history_entry {
    std::int64_t t_ms = 0;  // wall clock
    std::string event;      // a state ("RUNNING"), "ready" or "stalled"
    std::string reason;     // e.g. "exit code 1", "stalled", "requested"; may be empty
};

class supervised_process {
public:
    using state_listener = std::function<void(const supervised_process&, process_state from)>;

    // `config.name` is this copy's own name; `program` the configured process it is a copy of.
    supervised_process(system_calls& calls, config::process_config config, std::string program,
                       int instance, spawn_request request, system_calls::line_handler on_line,
                       state_listener on_change);
    ~supervised_process();
    supervised_process(const supervised_process&) = delete;
    supervised_process& operator=(const supervised_process&) = delete;

    // From any state at rest, or BACKOFF: start now (the quick-failure count starts afresh).
    void start();
    // SIGTERM to the child, SIGKILL after `grace`; from BACKOFF it simply stays down.
    void stop(std::chrono::milliseconds grace);
    // Stop if needed, then start once the child is gone; `reason` goes into the history.
    void restart(std::chrono::milliseconds grace, const std::string& reason = "requested");

    // Whether `pid` is this copy's command or runs below it (a notice's sender).
    bool owns(pid_t pid) const;
    // A notice from the child itself (through the notify socket): whether it said it is ready,
    // and the partitions it holds. Listeners hear of it only when something changed.
    void notice(bool ready, std::vector<int> partitions);
    // RUNNING, and with notify_ready, the child said it is ready.
    bool ready() const;
    // The partitions the child last said it holds, when it first said so for each (wall clock
    // ms, same order), and when it last said anything (0: never).
    const std::vector<int>& partitions() const { return partitions_; }
    const std::vector<std::int64_t>& claimed_ms() const { return claimed_ms_; }
    std::int64_t partitions_ms() const { return partitions_ms_; }
    // Marks the copy stalled (its partitions' offsets stopped moving) or not; returns how
    // long it has been stalled.
    std::chrono::milliseconds set_stalled(bool stalled, std::chrono::steady_clock::time_point now);
    bool stalled() const { return stalled_since_.has_value(); }
    // Why the supervisor has not started it (empty: not held back).
    const std::string& held() const { return held_; }
    void set_held(std::string reason) { held_ = std::move(reason); }
    const std::deque<history_entry>& history() const { return history_; }

    const std::string& program() const { return program_; }
    int instance() const { return instance_; }
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
    void schedule(timer& timer, std::chrono::milliseconds delay, void (supervised_process::*step)());
    void on_stable();
    void on_backoff_elapsed();
    void on_grace_elapsed();
    void on_pid_check();
    void remember(std::string event, std::string reason);

    system_calls& calls_;
    config::process_config config_;
    std::string program_;
    int instance_;
    spawn_request request_;
    system_calls::line_handler on_line_;
    state_listener on_change_;

    process_state state_ = process_state::stopped;
    std::shared_ptr<running_child> child_;
    std::chrono::steady_clock::time_point started_at_;
    int quick_failures_ = 0;
    int spawns_ = 0;
    int restarts_ = 0;
    bool start_after_stop_ = false;
    bool kill_sent_ = false;  // SIGKILL sent in this stop
    std::optional<std::string> last_exit_;
    std::string next_reason_;  // why the next change of state happens, if not the exit
    bool notified_ready_ = false;
    std::vector<int> partitions_;
    std::vector<std::int64_t> claimed_ms_;
    std::int64_t partitions_ms_ = 0;
    std::optional<std::chrono::steady_clock::time_point> stalled_since_;
    std::string held_;
    std::deque<history_entry> history_;
    std::unique_ptr<timer> stable_timer_;
    std::unique_ptr<timer> backoff_timer_;
    std::unique_ptr<timer> kill_timer_;
    std::unique_ptr<timer> pid_timer_;
    int pid_checks_ = 0;
    // Handlers hold a weak reference, so none runs after this object is gone.
    std::shared_ptr<supervised_process*> alive_;
};

}  // namespace orderstream::supervision

// A fake of the supervisor's system calls: children that exit when told, a clock that moves only
// when the test advances it, and a log of every spawn and signal. Deterministic, no sleeping.
#pragma once

#include <signal.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "supervision/system_calls.hpp"

namespace orderstream::testing {

class fake_child : public supervision::running_child {
public:
    // `defer` queues work for later, as a real exit reaches the supervisor only after the
    // signal call returned (through the event loop).
    fake_child(pid_t pid, supervision::system_calls::exit_handler on_exit,
               std::function<void(std::function<void()>)> defer)
        : pid_(pid), on_exit_(std::move(on_exit)), defer_(std::move(defer)) {}

    std::optional<pid_t> command_pid() const override { return pid_; }
    bool exited() const override { return exited_; }
    void signal(int signal_number) override {
        signals.push_back(signal_number);
        if (signal_number == SIGKILL || (signal_number == SIGTERM && !ignores_sigterm))
            defer_([this, status = signal_number] { exit(status); });
    }
    void kill_all() override { signal(SIGKILL); }
    bool owns(pid_t pid) const override { return !exited_ && pid == pid_; }
    void detach_handlers() override { on_exit_ = nullptr; }

    // The command ends with this wait status (e.g. exit code 1 is 1 << 8).
    void exit(int status) {
        if (exited_) return;
        exited_ = true;
        if (auto handler = std::move(on_exit_)) handler(status);
    }

    bool ignores_sigterm = false;
    std::vector<int> signals;

private:
    pid_t pid_;
    bool exited_ = false;
    supervision::system_calls::exit_handler on_exit_;
    std::function<void(std::function<void()>)> defer_;
};

class fake_system_calls : public supervision::system_calls {
public:
    std::shared_ptr<supervision::running_child> spawn(const supervision::spawn_request& request, line_handler on_line,
                                                      exit_handler on_exit) override;
    std::unique_ptr<supervision::timer> make_timer() override;
    std::chrono::steady_clock::time_point now() const override { return now_; }
    std::int64_t wall_ms() const override { return elapsed().count(); }

    // Moves the clock on by `step`, firing every timer that falls due, in order; exits caused
    // by signals are delivered first.
    void advance(std::chrono::milliseconds step);
    // Delivers the exits caused by signals.
    void deliver();
    std::chrono::milliseconds elapsed() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(now_ - std::chrono::steady_clock::time_point());
    }

    // Every child spawned, by command name (its first argument), oldest first.
    std::map<std::string, std::vector<std::shared_ptr<fake_child>>> children;
    // Milliseconds since the start at which each command was spawned.
    std::map<std::string, std::vector<std::int64_t>> spawned_at;
    bool fail_spawns = false;

private:
    struct pending {
        std::chrono::steady_clock::time_point due;
        std::uint64_t order;
        std::function<void()> on_expiry;
    };
    class fake_timer;

    std::chrono::steady_clock::time_point now_{};
    pid_t next_pid_ = 1000;
    std::uint64_t next_order_ = 0;
    std::map<std::uint64_t, pending> timers_;  // by id
    std::vector<std::function<void()>> deferred_;
    std::uint64_t next_timer_ = 0;
};

}  // namespace orderstream::testing

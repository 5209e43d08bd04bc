// Every system call the supervisor's state machine makes (spawning, signalling, reaping and the
// clock) behind one interface, as supervisord does with its `options` object. The daemon uses
// the real one; the supervision tests drive every branch (backoff timing, FATAL, SIGKILL after
// the grace period, start during stop, stall restarts) with a fake, without sleeping.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "supervision/spawn_request.hpp"

namespace orderstream::supervision {

// One spawned child, alive or reaped.
class running_child {
public:
    virtual ~running_child() = default;
    // The command's own pid, once known.
    virtual std::optional<pid_t> command_pid() const = 0;
    virtual bool exited() const = 0;
    // To the child and everything below it.
    virtual void signal(int signal_number) = 0;
    // SIGKILL to everything, its reaper included.
    virtual void kill_all() = 0;
    // Whether `pid` is the child or runs below it.
    virtual bool owns(pid_t pid) const = 0;
    // No more lines or exit from it (its owner is going away).
    virtual void detach_handlers() = 0;
};

// A one-shot timer; start() again replaces what was pending, and a cancelled one never fires.
class timer {
public:
    virtual ~timer() = default;
    virtual void start(std::chrono::milliseconds delay, std::function<void()> on_expiry) = 0;
    virtual void cancel() = 0;
};

class system_calls {
public:
    using line_handler = std::function<void(std::string_view)>;
    using exit_handler = std::function<void(int status)>;  // a raw wait status

    virtual ~system_calls() = default;
    // Throws std::system_error when the command cannot be started.
    virtual std::shared_ptr<running_child> spawn(const spawn_request& request, line_handler on_line,
                                                 exit_handler on_exit) = 0;
    virtual std::unique_ptr<timer> make_timer() = 0;
    virtual std::chrono::steady_clock::time_point now() const = 0;
    virtual std::int64_t wall_ms() const = 0;  // for the history people read
};

// Real children (child_process), asio timers and the system clocks.
std::shared_ptr<system_calls> real_system_calls(boost::asio::io_context& io);

}  // namespace orderstream::supervision

// One running child: spawned with Boost.Process, its stdout and stderr read on the event loop,
// its exit observed through a pidfd (no SIGCHLD handler, no thread per child).
#pragma once

#include <sys/types.h>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/process/async_pipe.hpp>

#include "capture/line_assembler.hpp"
#include "supervision/spawn_request.hpp"
#include "supervision/system_calls.hpp"

namespace orderstream::supervision {

// Stays alive (through shared_from_this in its pending reads) until both pipes reached end of
// file, so output written just before exit is never lost.
class child_process : public running_child, public std::enable_shared_from_this<child_process> {
public:
    using line_handler = std::function<void(std::string_view)>;
    // A raw wait status (see waitpid(2)).
    using exit_handler = std::function<void(int status)>;

    // Throws std::system_error when the command cannot be started.
    static std::shared_ptr<child_process> spawn(boost::asio::io_context& io,
                                                const spawn_request& request,
                                                line_handler on_line, exit_handler on_exit);
    ~child_process();

    // The reaper's pid: the process the daemon waits for and signals.
    pid_t pid() const { return pid_; }
    // The command's own pid (what `ps` and the consumer's label show); nullopt until the reaper
    // has started it (a millisecond or so after spawn()).
    std::optional<pid_t> command_pid() const override;
    bool exited() const override { return exited_; }
    // Signals the child's whole process group and every process below it, so its own children
    // get it too, even those that left the group.
    void signal(int signal_number) override;
    // SIGKILL to everything, the reaper included (one that did not exit after its command).
    void kill_all() override;
    bool owns(pid_t pid) const override;
    // Stops delivering lines and the exit (the owner is going away).
    void detach_handlers() override;

private:
    struct output_pipe {
        explicit output_pipe(boost::asio::io_context& io, std::size_t max_line_bytes)
            : pipe(io), lines(max_line_bytes) {}
        boost::process::async_pipe pipe;
        capture::line_assembler lines;
        std::array<char, 64 * 1024> buffer;
    };

    child_process(boost::asio::io_context& io, std::size_t max_line_bytes, line_handler on_line,
                  exit_handler on_exit);
    void do_read(output_pipe& out);
    void on_read(output_pipe& out, const boost::system::error_code& ec, std::size_t bytes);
    void do_wait_exit();
    void on_exit_ready(const boost::system::error_code& ec);

    output_pipe stdout_;
    output_pipe stderr_;
    boost::asio::posix::stream_descriptor pidfd_;
    pid_t pid_ = -1;
    bool reaped_ = false;  // runs under the reaper
    mutable pid_t command_pid_ = 0;
    bool exited_ = false;
    line_handler on_line_;
    exit_handler on_exit_;
};

// "exit code 3", "killed by SIGKILL", … for a raw wait status.
std::string describe_exit(int status);

}  // namespace orderstream::supervision

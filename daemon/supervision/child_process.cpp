// Spawning a child, capturing its output and noticing its exit; see child_process.hpp.
#include "supervision/child_process.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <system_error>

#include <boost/asio/read.hpp>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/search_path.hpp>

#include "supervision/process_tree.hpp"
#include "supervision/reaper.hpp"

namespace orderstream::supervision {
namespace bp = boost::process;

namespace {

// Runs in the child between fork and exec (only async-signal-safe calls here).
struct child_setup : bp::extend::handler {
    pid_t parent;

    template <typename Executor>
    void on_exec_setup(Executor&) const {
        // Own process group: stopping the child reaches the children it started too.
        ::setpgid(0, 0);
        // Until the reaper sets its own: killed with the daemon.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);  // the daemon died before prctl took effect
        // Undo what the daemon changed for itself.
        ::signal(SIGPIPE, SIG_DFL);
        ::signal(SIGXFSZ, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        // The daemon's sockets and pipes must not leak into the child.
        ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    }
};

// The child's environment: the daemon's own, less what belongs to the daemon alone, with the
// request's variables set. Built here rather than with bp::environment, whose find() in Boost
// 1.74 reads as many bytes as the key from every entry, past the end of the shorter ones.
class child_environment : public bp::extend::handler {
public:
    explicit child_environment(const std::vector<std::pair<std::string, std::string>>& added) {
        auto replaced = [&](std::string_view entry) {
            const auto name = entry.substr(0, entry.find('='));
            for (const char* own : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "LISTEN_FDS", "LISTEN_PID"})
                if (name == own) return true;
            for (const auto& [key, value] : added)
                if (name == key) return true;
            return false;
        };
        for (char** entry = ::environ; entry && *entry; ++entry)
            if (!replaced(*entry)) entries_.emplace_back(*entry);
        for (const auto& [key, value] : added) entries_.push_back(key + "=" + value);
        for (auto& entry : entries_) pointers_.push_back(entry.data());
        pointers_.push_back(nullptr);
    }

    // Before the fork: execve then gets this list.
    template <typename Executor>
    void on_setup(Executor& exec) const {
        exec.env = const_cast<char**>(pointers_.data());
    }

private:
    std::vector<std::string> entries_;
    std::vector<char*> pointers_;
};

// The command's path; checked here, since the reaper's own failure to run it would only show
// as an exit code.
std::string resolve(const std::string& command) {
    if (command.find('/') != std::string::npos) {
        if (::access(command.c_str(), X_OK) != 0)
            throw std::system_error(errno, std::generic_category(), "cannot run \"" + command + "\"");
        return command;
    }
    auto found = bp::search_path(command);
    if (found.empty()) throw std::system_error(ENOENT, std::generic_category(), "\"" + command + "\" not found in PATH");
    return found.string();
}

}  // namespace

std::string describe_exit(int status) {
    if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const char* name = sigabbrev_np(WTERMSIG(status));
        return "killed by " + (name ? "SIG" + std::string(name) : "signal " + std::to_string(WTERMSIG(status)));
    }
    return "wait status " + std::to_string(status);
}

child_process::child_process(boost::asio::io_context& io, std::size_t max_line_bytes,
                             line_handler on_line, exit_handler on_exit)
    : stdout_(io, max_line_bytes),
      stderr_(io, max_line_bytes),
      pidfd_(io),
      on_line_(std::move(on_line)),
      on_exit_(std::move(on_exit)) {}

child_process::~child_process() = default;

std::shared_ptr<child_process> child_process::spawn(boost::asio::io_context& io,
                                                    const spawn_request& request,
                                                    line_handler on_line, exit_handler on_exit) {
    std::shared_ptr<child_process> self(
        new child_process(io, request.max_line_bytes, std::move(on_line), std::move(on_exit)));

    // The systemd notify socket and journal stream are the daemon's, not its children's.
    const child_environment environment(request.environment);

    std::error_code error;
    // Under the reaper, which keeps every descendant in its tree and kills them all if the
    // daemon dies.
    const auto command = resolve(request.command);
    const bool reaped = !request.reaper.empty();
    bp::child child(bp::exe = reaped ? request.reaper : command,
                    bp::args = reaped ? reaper_arguments(command, request.args) : request.args,
                    bp::std_in < bp::null, bp::std_out > self->stdout_.pipe,
                    bp::std_err > self->stderr_.pipe, environment,
                    child_setup{{}, ::getpid()}, error);
    if (error) throw std::system_error(error, "cannot start \"" + request.command + "\"");
    self->pid_ = child.id();
    self->reaped_ = reaped;
    child.detach();  // we reap it ourselves, through the pidfd

    // glibc 2.36's <sys/pidfd.h> lacks extern "C", so call the system call directly.
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, self->pid_, 0));
    if (pidfd < 0) {
        ::kill(-self->pid_, SIGKILL);
        throw std::system_error(errno, std::generic_category(), "pidfd_open");
    }
    self->pidfd_.assign(pidfd);

    // Boost.Process closed our copies of the write ends, so end of file arrives when the child
    // (and any process it passed the pipes to) is gone.
    self->do_read(self->stdout_);
    self->do_read(self->stderr_);
    self->do_wait_exit();
    return self;
}

void child_process::signal(int signal_number) {
    if (exited_ || pid_ <= 0) return;
    // The reaper is left out: once its command has exited, it reaps it, stops what is left and
    // exits the same way. Killed with them, it would leave their zombies to init.
    signal_tree(pid_, signal_number, !reaped_);
}

bool child_process::owns(pid_t pid) const {
    if (exited_) return false;
    return pid == pid_ || command_pid() == pid || is_below(pid, pid_);
}

void child_process::kill_all() {
    if (exited_ || pid_ <= 0) return;
    signal_tree(pid_, SIGKILL, true);
}

std::optional<pid_t> child_process::command_pid() const {
    if (!reaped_) return pid_;
    if (command_pid_ > 0 || exited_ || pid_ <= 0) return command_pid_ > 0 ? std::optional<pid_t>(command_pid_) : std::nullopt;
    std::ifstream children("/proc/" + std::to_string(pid_) + "/task/" + std::to_string(pid_) + "/children");
    pid_t first = 0;
    if (children >> first && first > 0) command_pid_ = first;  // the reaper's first child is the command
    return command_pid_ > 0 ? std::optional<pid_t>(command_pid_) : std::nullopt;
}

void child_process::detach_handlers() {
    on_line_ = nullptr;
    on_exit_ = nullptr;
}

void child_process::do_read(output_pipe& out) {
    out.pipe.async_read_some(
        boost::asio::buffer(out.buffer),
        [self = shared_from_this(), &out](const boost::system::error_code& ec, std::size_t bytes) {
            self->on_read(out, ec, bytes);
        });
}

void child_process::on_read(output_pipe& out, const boost::system::error_code& ec,
                            std::size_t bytes) {
    auto deliver = [this](std::string_view line) {
        if (on_line_) on_line_(line);
    };
    if (bytes > 0) out.lines.feed(std::string_view(out.buffer.data(), bytes), deliver);
    if (ec) {
        // End of file (or the pipe broke): keep a last line that had no newline.
        out.lines.finish(deliver);
        return;
    }
    do_read(out);
}

void child_process::do_wait_exit() {
    pidfd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [self = shared_from_this()](const boost::system::error_code& ec) {
                          self->on_exit_ready(ec);
                      });
}

void child_process::on_exit_ready(const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    int status = 0;
    pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
    if (reaped == 0) {  // spurious wake-up
        do_wait_exit();
        return;
    }
    exited_ = true;
    pidfd_.close();
    if (on_exit_) on_exit_(reaped == pid_ ? status : 0);
}

}  // namespace orderstream::supervision

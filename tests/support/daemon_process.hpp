// Runs the real `orderstream run` binary for end-to-end tests: a temporary config and log,
// a port chosen by the kernel, and a guaranteed stop (SIGKILL at the latest) when it goes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "support/http_client.hpp"

namespace orderstream::testing {

// A temporary directory removed with everything in it.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

class daemon_process {
public:
    // `config_toml` is written to a file in a temporary directory; --listen 127.0.0.1:0 is added.
    explicit daemon_process(const std::string& config_toml, std::vector<std::string> extra_args = {});
    ~daemon_process();

    unsigned short port() const { return port_; }
    // The config file it was started with (a test may rewrite it and ask for a reload).
    std::filesystem::path config_path() const { return dir_.path() / "orderstream.toml"; }
    pid_t pid() const { return pid_; }
    std::string log() const;
    // SIGTERM and wait; returns the exit status (raw wait status), or -1 on timeout.
    int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    void kill_hard();  // SIGKILL and reap

    http_reply get(const std::string& target) const { return http_get(port_, target); }
    http_reply post(const std::string& target) const { return http_post(port_, target); }
    // Pids of the live children, read from /api/processes.
    std::vector<pid_t> child_pids() const;

private:
    temp_dir dir_;
    pid_t pid_ = -1;
    unsigned short port_ = 0;
    bool reaped_ = false;
};

struct shell_result {
    int exit_code;  // -1 when killed by a signal
    std::string output;  // stdout and stderr
};
// Runs `command` with /bin/sh, stdin from /dev/null, and collects its output; killed after 120 s.
shell_result run_shell(const std::string& command);

// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);
// True while a process with this pid exists and is not a zombie.
bool process_alive(pid_t pid);

}  // namespace orderstream::testing

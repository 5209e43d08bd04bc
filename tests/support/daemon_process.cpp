// The real daemon as a test fixture; see daemon_process.hpp.
#include "support/daemon_process.hpp"

#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/command.hpp"

namespace orderstream::testing {
namespace fs = std::filesystem;

temp_dir::temp_dir() {
    std::random_device random;
    path_ = fs::temp_directory_path() / ("orderstream-test-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(random()));
    fs::create_directories(path_);
}

temp_dir::~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

shell_result run_shell(const std::string& command) {
    auto result = run_command({"/bin/sh", "-c", command + " 2>&1 </dev/null"}, std::chrono::seconds(120));
    return {result.exit_code, result.out + (result.timed_out ? "\n[killed after 120 s]" : "")};
}

bool process_alive(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

daemon_process::daemon_process(const std::string& config_toml, std::vector<std::string> extra_args) {
    auto config = config_path();
    std::ofstream(config) << config_toml;
    auto log_path = dir_.path() / "daemon.log";

    std::vector<std::string> args{ORDERSTREAM_BINARY, "run", "--config", config.string(),
                                  "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        std::vector<char*> argv;
        for (auto& arg : args) argv.push_back(arg.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }

    // The daemon logs the port the kernel gave it.
    std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+)/)");
    bool ready = wait_until(
        [&] {
            std::smatch match;
            std::string text = log();
            if (std::regex_search(text, match, listening)) port_ = static_cast<unsigned short>(std::stoi(match[1]));
            int status;
            if (port_ == 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
                reaped_ = true;
                throw std::runtime_error("orderstream run exited early:\n" + log());
            }
            return port_ != 0;
        },
        std::chrono::seconds(30));
    if (!ready) {
        kill_hard();
        throw std::runtime_error("orderstream run did not start listening:\n" + log());
    }
}

daemon_process::~daemon_process() {
    if (!reaped_) {
        if (terminate(std::chrono::seconds(20)) == -1) kill_hard();
    }
}

std::string daemon_process::log() const {
    std::ifstream file(dir_.path() / "daemon.log");
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

int daemon_process::terminate(std::chrono::milliseconds timeout) {
    if (reaped_) return -1;
    ::kill(pid_, SIGTERM);
    int status = -1;
    bool done = wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!done) return -1;
    reaped_ = true;
    return status;
}

void daemon_process::kill_hard() {
    if (reaped_) return;
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
}

std::vector<pid_t> daemon_process::child_pids() const {
    std::vector<pid_t> pids;
    for (const auto& process : get("/api/processes").json())
        if (process["pid"].is_number()) pids.push_back(process["pid"].get<pid_t>());
    return pids;
}

}  // namespace orderstream::testing

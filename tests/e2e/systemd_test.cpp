// The systemd notify protocol, driven without systemd: the test is the notify socket.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "support/daemon_process.hpp"

using namespace orderstream::testing;

namespace {

const char* sleepers = R"(
[[processes]]
name = "one"
command = "sleep"
args = ["300"]
stable_seconds = 0.5
[[processes]]
name = "two"
command = "sleep"
args = ["300"]
stable_seconds = 0.5
)";

// A datagram socket like systemd's notify socket.
class notify_socket {
public:
    explicit notify_socket(const std::filesystem::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    }
    ~notify_socket() { ::close(fd_); }

    // The next message, or "" after `timeout`.
    std::string receive(std::chrono::milliseconds timeout) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return "";
        char buffer[4096];
        auto n = ::recv(fd_, buffer, sizeof buffer, 0);
        return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
    }

private:
    std::filesystem::path path_;
    int fd_;
};

// Sets environment variables for the daemon started inside the scope.
struct scoped_env {
    std::vector<std::string> names;
    scoped_env(std::initializer_list<std::pair<const char*, std::string>> values) {
        for (const auto& [name, value] : values) {
            ::setenv(name, value.c_str(), 1);
            names.push_back(name);
        }
    }
    ~scoped_env() {
        for (const auto& name : names) ::unsetenv(name.c_str());
    }
};

}  // namespace

TEST_CASE("READY once every child runs, then STATUS and WATCHDOG pings, and STOPPING last") {
    temp_dir dir;
    notify_socket socket(dir.path() / "notify");
    std::vector<std::string> messages;
    {
        scoped_env env{{"NOTIFY_SOCKET", (dir.path() / "notify").string()}, {"WATCHDOG_USEC", "400000"}};
        daemon_process daemon(sleepers);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        int pings_after_ready = 0;
        bool ready = false;
        while (std::chrono::steady_clock::now() < deadline && pings_after_ready < 3) {
            auto message = socket.receive(std::chrono::milliseconds(500));
            if (message.empty()) continue;
            messages.push_back(message);
            if (message.find("READY=1") != std::string::npos) ready = true;
            if (ready && message == "WATCHDOG=1") ++pings_after_ready;
        }
        REQUIRE(pings_after_ready == 3);
        // The children do not see the daemon's notify socket.
        for (pid_t child : daemon.child_pids()) {
            std::ifstream environ("/proc/" + std::to_string(child) + "/environ");
            std::string text((std::istreambuf_iterator<char>(environ)), std::istreambuf_iterator<char>());
            CHECK(text.find("NOTIFY_SOCKET") == std::string::npos);
        }
        CHECK(WEXITSTATUS(daemon.terminate()) == 0);
        for (std::string message; !(message = socket.receive(std::chrono::milliseconds(500))).empty();)
            messages.push_back(message);
    }
    INFO([&] { std::string all; for (auto& m : messages) all += "[" + m + "] "; return all; }());

    auto index_of = [&](const std::string& needle) {
        for (std::size_t i = 0; i < messages.size(); ++i)
            if (messages[i].find(needle) != std::string::npos) return static_cast<long>(i);
        return -1L;
    };
    long ready = index_of("READY=1");
    REQUIRE(ready >= 0);
    CHECK(messages[ready].find("STATUS=2/2 children running") != std::string::npos);
    long stopping = index_of("STOPPING=1");
    REQUIRE(stopping > ready);
    long pings_between = 0;
    for (long i = ready + 1; i < stopping; ++i) pings_between += messages[i] == "WATCHDOG=1";
    CHECK(pings_between >= 3);
    for (long i = stopping + 1; i < static_cast<long>(messages.size()); ++i) CHECK(messages[i] == "WATCHDOG=1");
}

TEST_CASE("without NOTIFY_SOCKET nothing is sent and the daemon runs as usual") {
    ::unsetenv("NOTIFY_SOCKET");
    daemon_process daemon(sleepers);
    CHECK(daemon.get("/healthz").status == 200);
    CHECK(daemon.log().find("sd_notify") == std::string::npos);
}

TEST_CASE("under systemd's journal, log lines carry priority prefixes and no timestamp") {
    std::string log;
    {
        scoped_env env{{"JOURNAL_STREAM", "8:12345"}};
        daemon_process daemon(sleepers);
        log = daemon.log();
    }
    INFO(log);
    CHECK(log.find("<6>[main] web monitor listening on") != std::string::npos);
    CHECK(log.find("2026-") == std::string::npos);
    CHECK(log.find(" info ") == std::string::npos);
}

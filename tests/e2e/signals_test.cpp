// Signals and shutdown through the real binary: SIGHUP does not stop anything, a shutdown in
// progress refuses to start processes and ends within its grace period, and exits are reported
// at the level they deserve.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include "support/daemon_process.hpp"

using namespace orderstream::testing;
using namespace std::chrono_literals;

namespace {

nlohmann::json process_named(const daemon_process& daemon, const std::string& name) {
    for (const auto& process : daemon.get("/api/processes").json())
        if (process["name"] == name) return process;
    return nullptr;
}

}  // namespace

TEST_CASE("SIGHUP (a closed terminal) leaves the daemon and its children running") {
    daemon_process daemon("[[processes]]\nname = \"one\"\ncommand = \"sleep\"\nargs = [\"300\"]\n");
    std::vector<pid_t> children;
    REQUIRE(wait_until([&] { return (children = daemon.child_pids()).size() == 1; }, 10s));
    REQUIRE(::kill(daemon.pid(), SIGHUP) == 0);
    INFO(daemon.log());
    REQUIRE(wait_until([&] { return daemon.log().find("received SIGHUP") != std::string::npos; }, 10s));
    CHECK(process_alive(daemon.pid()));
    CHECK(daemon.get("/healthz").status == 200);
    CHECK(daemon.child_pids() == children);
}

TEST_CASE("once shutdown has begun, start and restart get 409 and the daemon ends within grace + 5 s") {
    daemon_process daemon(R"(
[supervisor]
stop_grace_seconds = 2.0
[[processes]]
name = "stubborn"
command = "/bin/sh"
args = ["-c", "trap '' TERM; sleep 300"]
[[processes]]
name = "quick"
command = "sleep"
args = ["300"]
)");
    REQUIRE(wait_until([&] { return daemon.child_pids().size() == 2; }, 10s));
    const auto signalled = std::chrono::steady_clock::now();
    REQUIRE(::kill(daemon.pid(), SIGTERM) == 0);
    REQUIRE(wait_until([&] { return daemon.log().find("stopping children") != std::string::npos; }, 5s));
    // "quick" is STOPPED by now or soon; starting it again would leave a child without a deadline.
    REQUIRE(wait_until([&] { return process_named(daemon, "quick")["state"] == "STOPPED"; }, 5s));
    auto start = daemon.post("/api/processes/quick/start");
    CHECK(start.status == 409);
    CHECK(start.body.find("shutting down") != std::string::npos);
    CHECK(daemon.post("/api/processes/stubborn/restart").status == 409);
    CHECK(daemon.post("/api/processes/quick/stop").status == 200);  // stopping is still fine

    const bool ended = wait_until([&] { return !process_alive(daemon.pid()); }, 7s);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - signalled);
    INFO(daemon.log() << "\nended after " << took.count() << " ms");
    CHECK(ended);
    CHECK(took < 7s);
    const int status = daemon.terminate(5s);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a command that cannot be spawned counts restarts; a clean exit is logged at info") {
    daemon_process daemon(R"(
[[processes]]
name = "ghost"
command = "/nonexistent/orderstream-ghost"
backoff_initial_seconds = 0.1
max_quick_failures = 3
[[processes]]
name = "done"
command = "true"
autorestart = false
)");
    nlohmann::json ghost;
    const bool fatal = wait_until([&] { return (ghost = process_named(daemon, "ghost"))["state"] == "FATAL"; }, 20s);
    INFO(ghost.dump() << "\n" << daemon.log());
    REQUIRE(fatal);
    CHECK(ghost["restarts"] == 2);  // three tries: the first start and two restarts
    REQUIRE(wait_until([&] { return process_named(daemon, "done")["state"] == "EXITED"; }, 10s));
    const auto log = daemon.log();
    CHECK(log.find("info  [supervisor] done: STARTING -> EXITED (exit code 0)") != std::string::npos);
    CHECK(log.find("error [supervisor] ghost: STARTING -> FATAL") != std::string::npos);
}

// The supervisor with real child processes: output capture under a flood, restarts with
// backoff up to FATAL, graceful and forced stops.
#include <catch2/catch.hpp>

#include <set>

#include <boost/asio/io_context.hpp>

#include "capture/output_store.hpp"
#include "supervision/supervisor.hpp"

using namespace orderstream;
using supervision::process_state;

namespace {

config::process_config shell(const std::string& name, const std::string& script) {
    config::process_config process;
    process.name = process.terminal = name;
    process.command = "/bin/sh";
    process.args = {"-c", script};
    process.restart.backoff_initial_seconds = 0.05;
    process.restart.backoff_max_seconds = 0.15;
    process.restart.stable_seconds = 1.0;
    process.restart.max_quick_failures = 4;
    return process;
}

struct fixture {
    boost::asio::io_context io;
    capture::output_store store;
    supervision::supervisor supervisor;
    std::vector<std::pair<std::string, process_state>> transitions;

    explicit fixture(std::vector<config::process_config> processes, double grace_seconds = 2.0)
        : store(names(processes), 1000),
          supervisor(io, processes, store, options(grace_seconds)) {
        supervisor.on_state_change([this](const supervision::supervised_process& p, process_state) {
            transitions.emplace_back(p.config().name, p.state());
        });
    }

    static std::vector<std::string> names(const std::vector<config::process_config>& processes) {
        std::vector<std::string> out;
        for (const auto& p : processes) out.push_back(p.terminal);
        return out;
    }
    static supervision::supervisor_options options(double grace_seconds) {
        supervision::supervisor_options options;
        options.stop_grace = std::chrono::milliseconds(static_cast<int>(grace_seconds * 1000));
        options.self_executable = ORDERSTREAM_BINARY;  // children run under its reaper, as in the daemon
        return options;
    }

    // Runs the event loop until `done` holds; fails the test after `limit`.
    void run_until(const std::function<bool()>& done, std::chrono::seconds limit = std::chrono::seconds(30)) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            io.run_for(std::chrono::milliseconds(20));
            io.restart();
        }
        REQUIRE(done());
    }
    void stop_all() {
        bool stopped = false;
        supervisor.stop_all([&] { stopped = true; });
        run_until([&] { return stopped; });
    }
    const capture::ring_buffer& lines(std::size_t terminal = 0) { return store.terminals()[terminal].lines; }
    std::string last_line(std::size_t terminal = 0) {
        const auto& ring = lines(terminal);
        return ring.size() ? ring.at(ring.size() - 1).text : "";
    }
};

}  // namespace

TEST_CASE("a child flooding 1,000,000 lines is drained and the ring keeps the last 1000") {
    auto flood = shell("flood", "seq 1 1000000; echo -n tail-without-newline");
    flood.restart.autorestart = false;
    fixture f({flood});
    f.supervisor.start_all();
    f.run_until([&] { return f.store.terminals()[0].captured == 1000001; }, std::chrono::seconds(120));
    f.run_until([&] { return f.supervisor.processes()[0]->state() == process_state::exited; });

    const auto& ring = f.lines();
    CHECK(ring.size() == 1000);
    CHECK(ring.dropped() == 999001);
    CHECK(ring.at(0).text == "999002");
    CHECK(ring.at(998).text == "1000000");
    CHECK(ring.at(999).text == "tail-without-newline");  // kept although the child exited
    CHECK(f.supervisor.processes()[0]->last_exit() == "exit code 0");
}

TEST_CASE("stdout and stderr both reach the terminal") {
    auto both = shell("both", "echo to-stdout; echo to-stderr >&2");
    both.restart.autorestart = false;
    fixture f({both});
    f.supervisor.start_all();
    f.run_until([&] { return f.lines().size() == 2; });
    std::set<std::string> seen{f.lines().at(0).text, f.lines().at(1).text};
    CHECK(seen == std::set<std::string>{"to-stdout", "to-stderr"});
    f.run_until([&] { return f.supervisor.processes()[0]->state() == process_state::exited; });
}

TEST_CASE("a crashing child is restarted with doubling backoff and ends FATAL") {
    fixture f({shell("crasher", "echo boom; exit 3")});
    std::vector<long> backoffs;
    f.supervisor.on_state_change([&](const supervision::supervised_process& p, process_state) {
        f.transitions.emplace_back(p.config().name, p.state());
        if (p.state() == process_state::backoff) backoffs.push_back(p.next_backoff().count());
    });
    f.supervisor.start_all();
    auto& process = *f.supervisor.processes()[0];
    f.run_until([&] { return process.state() == process_state::fatal; });

    CHECK(backoffs == std::vector<long>{50, 100, 150});  // doubles, capped at backoff_max_seconds
    CHECK(process.restarts() == 3);
    CHECK(process.last_exit() == "exit code 3");
    CHECK(f.lines().size() == 4);  // one "boom" per run
    CHECK(f.last_line() == "boom");
    // No more starts once FATAL.
    f.io.run_for(std::chrono::milliseconds(400));
    CHECK(process.state() == process_state::fatal);
    CHECK(process.restarts() == 3);

    // A manual start gives it a fresh set of tries.
    process.start();
    CHECK(process.state() == process_state::starting);
    f.run_until([&] { return process.state() == process_state::fatal; });
}

TEST_CASE("a child that ran stably is restarted and its backoff starts afresh") {
    auto steady = shell("steady", "echo up; sleep 1.3; exit 1");
    steady.restart.stable_seconds = 0.3;
    fixture f({steady});
    std::vector<long> backoffs;
    f.supervisor.on_state_change([&](const supervision::supervised_process& p, process_state) {
        if (p.state() == process_state::backoff) backoffs.push_back(p.next_backoff().count());
    });
    f.supervisor.start_all();
    auto& process = *f.supervisor.processes()[0];
    f.run_until([&] { return process.state() == process_state::running; });
    f.run_until([&] { return process.restarts() == 2; });
    CHECK(backoffs == std::vector<long>{50, 50});
    f.stop_all();
}

TEST_CASE("stop_all sends SIGTERM, and SIGKILL to a child that ignores it") {
    auto polite = shell("polite", "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.05; done");
    auto stubborn = shell("stubborn", "trap '' TERM; echo ready; while true; do sleep 0.05; done");
    fixture f({polite, stubborn}, 0.5);
    f.supervisor.start_all();
    f.run_until([&] { return f.last_line(0) == "ready" && f.last_line(1) == "ready"; });
    pid_t stubborn_pid = *f.supervisor.processes()[1]->pid();

    f.stop_all();
    CHECK(f.supervisor.processes()[0]->state() == process_state::stopped);
    CHECK(f.supervisor.processes()[1]->state() == process_state::stopped);
    CHECK(f.supervisor.processes()[0]->last_exit() == "exit code 0");
    CHECK(f.supervisor.processes()[1]->last_exit() == "killed by SIGKILL");
    f.run_until([&] { return f.last_line(0) == "got TERM"; });
    CHECK(::kill(stubborn_pid, 0) != 0);
}

TEST_CASE("a command that cannot start is retried and ends FATAL with the reason") {
    config::process_config missing;
    missing.name = missing.terminal = "missing";
    missing.command = "/nonexistent/program";
    missing.restart.backoff_initial_seconds = 0.01;
    missing.restart.max_quick_failures = 2;
    fixture f({missing});
    f.supervisor.start_all();
    auto& process = *f.supervisor.processes()[0];
    f.run_until([&] { return process.state() == process_state::fatal; });
    REQUIRE(process.last_exit());
    CHECK_THAT(*process.last_exit(), Catch::Contains("spawn failed"));
}

TEST_CASE("restart stops the child and starts a new one") {
    fixture f({shell("looper", "echo started $$; while true; do sleep 0.05; done")});
    f.supervisor.start_all();
    auto& process = *f.supervisor.processes()[0];
    f.run_until([&] { return f.lines().size() == 1; });
    pid_t first = *process.pid();
    process.restart(std::chrono::seconds(2));
    f.run_until([&] { return f.lines().size() == 2 && process.pid() && *process.pid() != first; });
    CHECK(process.restarts() == 1);
    f.stop_all();
}

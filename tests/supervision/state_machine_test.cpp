// The supervisor's state machine through every branch, driven by fake system calls: backoff
// timing, FATAL, RUNNING after stable_seconds, SIGKILL after the grace period, start during
// stop, stalled restarts, dependencies and scaling. Deterministic: the clock moves only when the
// test moves it. (supervisor_test.cpp does the same with real children.)
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include "capture/output_store.hpp"
#include "fake_system_calls.hpp"
#include "supervision/supervisor.hpp"

using namespace orderstream;
using namespace std::chrono_literals;
using supervision::process_state;

namespace {

config::process_config program(const std::string& name) {
    config::process_config process;
    process.name = process.terminal = name;
    process.command = "fake";
    process.args = {name};
    process.restart.backoff_initial_seconds = 1;
    process.restart.backoff_max_seconds = 30;
    process.restart.stable_seconds = 5;
    process.restart.max_quick_failures = 4;
    return process;
}

struct fixture {
    boost::asio::io_context io;
    std::shared_ptr<testing::fake_system_calls> calls = std::make_shared<testing::fake_system_calls>();
    capture::output_store store;
    supervision::supervisor supervisor;

    explicit fixture(const std::vector<config::process_config>& processes)
        : store(terminals(processes), 100), supervisor(io, processes, store, options(), calls) {}

    static std::vector<std::string> terminals(const std::vector<config::process_config>& processes) {
        std::vector<std::string> names;
        for (const auto& p : processes) names.push_back(p.terminal);
        return names;
    }
    static supervision::supervisor_options options() {
        supervision::supervisor_options options;
        options.stop_grace = 10s;
        return options;
    }
    // Moves the fake clock on, then runs what the supervisor posted.
    void advance(std::chrono::milliseconds step) {
        calls->advance(step);
        settle();
    }
    void settle() {
        for (int i = 0; i < 10; ++i) {
            calls->deliver();
            io.restart();
            io.poll();
        }
    }
    supervision::supervised_process& process(const std::string& name) {
        auto* found = supervisor.find(name);
        REQUIRE(found);
        return *found;
    }
    testing::fake_child& child(const std::string& command) { return *calls->children.at(command).back(); }
    std::size_t spawns(const std::string& command) { return calls->children.count(command) ? calls->children[command].size() : 0; }
};

constexpr int exit_code_1 = 1 << 8;

}  // namespace

TEST_CASE("a process that keeps failing backs off 1, 2, 4 s, and is FATAL after max_quick_failures") {
    fixture f({program("worker")});
    f.supervisor.start_all();
    for (int failure = 0; failure < 3; ++failure) {
        f.child("worker").exit(exit_code_1);
        f.settle();
        CHECK(f.process("worker").state() == process_state::backoff);
        const auto delay = std::chrono::milliseconds(1000 << failure);
        f.advance(delay - 1ms);
        CHECK(f.spawns("worker") == static_cast<std::size_t>(failure + 1));
        f.advance(1ms);
        CHECK(f.spawns("worker") == static_cast<std::size_t>(failure + 2));
        CHECK(f.process("worker").state() == process_state::starting);
    }
    CHECK(f.calls->spawned_at["worker"] == std::vector<std::int64_t>{0, 1000, 3000, 7000});
    f.child("worker").exit(exit_code_1);
    f.settle();
    CHECK(f.process("worker").state() == process_state::fatal);
    CHECK(f.process("worker").last_exit() == "exit code 1");
    CHECK(f.process("worker").restarts() == 3);
    f.advance(1h);
    CHECK(f.spawns("worker") == 4);  // no more restarts
}

TEST_CASE("a run past stable_seconds is RUNNING, and its exit starts the backoff afresh") {
    fixture f({program("worker")});
    f.supervisor.start_all();
    f.child("worker").exit(exit_code_1);  // one quick failure: the next delay would be 2 s
    f.advance(1s);
    f.advance(4999ms);
    CHECK(f.process("worker").state() == process_state::starting);
    f.advance(1ms);
    CHECK(f.process("worker").state() == process_state::running);
    CHECK(f.process("worker").ready());
    f.child("worker").exit(exit_code_1);
    f.settle();
    CHECK(f.process("worker").next_backoff() == 1s);
}

TEST_CASE("a child that ignores SIGTERM gets SIGCONT with it, and SIGKILL after the grace period") {
    fixture f({program("worker")});
    f.supervisor.start_all();
    f.child("worker").ignores_sigterm = true;
    f.process("worker").stop(10s);
    CHECK(f.process("worker").state() == process_state::stopping);
    CHECK(f.child("worker").signals == std::vector<int>{SIGTERM, SIGCONT});
    f.advance(9999ms);
    CHECK(f.child("worker").signals.size() == 2);
    f.advance(1ms);
    CHECK(f.child("worker").signals.back() == SIGKILL);
    CHECK(f.process("worker").state() == process_state::stopped);
    CHECK(f.process("worker").last_exit() == "killed by SIGKILL");
}

TEST_CASE("a start during a stop starts again once the child is gone") {
    fixture f({program("worker")});
    f.supervisor.start_all();
    f.child("worker").ignores_sigterm = true;
    f.process("worker").stop(10s);
    f.process("worker").start();
    CHECK(f.process("worker").state() == process_state::stopping);
    CHECK(f.spawns("worker") == 1);
    f.advance(10s);
    CHECK(f.spawns("worker") == 2);
    CHECK(f.process("worker").state() == process_state::starting);
}

TEST_CASE("a copy stalled for restart_when_stalled_seconds is restarted once, with the reason; without it, never") {
    auto watched = program("shipping");
    watched.restart_when_stalled_seconds = 60;
    fixture f({watched, program("email")});
    f.supervisor.start_all();
    f.advance(5s);
    REQUIRE(f.process("shipping").state() == process_state::running);
    const std::set<std::string> stalled{"shipping", "email"};
    f.supervisor.check_stalls(stalled, f.calls->now());
    CHECK(f.process("shipping").stalled());
    f.advance(59s);
    f.supervisor.check_stalls(stalled, f.calls->now());
    CHECK(f.process("shipping").state() == process_state::running);
    f.advance(1s);
    f.supervisor.check_stalls(stalled, f.calls->now());
    f.settle();
    // SIGTERM stopped it; it starts again at once, counted, with "stalled" in its history.
    CHECK(f.spawns("shipping") == 2);
    CHECK(f.process("shipping").state() == process_state::starting);
    CHECK(f.process("shipping").restarts() == 1);
    CHECK_FALSE(f.process("shipping").stalled());
    bool reason = false;
    for (const auto& entry : f.process("shipping").history()) reason |= entry.event == "STOPPING" && entry.reason == "stalled";
    CHECK(reason);
    f.advance(10min);
    f.supervisor.check_stalls(stalled, f.calls->now());
    CHECK(f.spawns("email") == 1);
    CHECK(f.process("email").stalled());
    // No longer stalled: the mark goes.
    f.supervisor.check_stalls({}, f.calls->now());
    CHECK_FALSE(f.process("email").stalled());
}

TEST_CASE("a dependant starts once its dependency is ready, as the child says; never after it went FATAL") {
    auto db = program("db");
    db.notify_ready = true;
    db.restart.stable_seconds = 1;
    auto app = program("app");
    app.depends_on = {"db"};
    auto broken = program("broken");
    broken.restart.max_quick_failures = 1;
    auto waiter = program("waiter");
    waiter.depends_on = {"broken"};
    fixture f({db, app, broken, waiter});
    f.supervisor.start_all();
    f.settle();
    CHECK(f.spawns("db") == 1);
    CHECK(f.spawns("app") == 0);
    CHECK(f.process("app").held() == "waiting for db to be ready");
    f.advance(1s);
    CHECK(f.process("db").state() == process_state::running);
    CHECK(f.spawns("app") == 0);  // RUNNING is not enough: db has not said it is ready
    f.supervisor.notice({*f.child("db").command_pid() + 1, true, true, {0}});  // another pid speaks for nobody
    f.settle();
    CHECK(f.spawns("app") == 0);
    f.supervisor.notice({*f.child("db").command_pid(), true, true, {0, 2}});
    f.settle();
    CHECK(f.spawns("app") == 1);
    CHECK(f.process("app").held().empty());
    CHECK(f.process("db").partitions() == std::vector<int>{0, 2});

    f.child("broken").exit(exit_code_1);
    f.settle();
    CHECK(f.process("broken").state() == process_state::fatal);
    CHECK(f.process("waiter").held() == "not started: broken is FATAL");
    f.advance(1h);
    CHECK(f.spawns("waiter") == 0);
    // Started by hand and stable, the dependency releases its dependant after all.
    REQUIRE_FALSE(f.supervisor.start(f.process("broken")));
    f.advance(5s);
    CHECK(f.process("broken").state() == process_state::running);
    CHECK(f.spawns("waiter") == 1);
    CHECK(f.process("waiter").held().empty());
}

TEST_CASE("a copy held back and stopped by hand stays stopped when its dependency becomes ready") {
    auto db = program("db");
    db.restart.stable_seconds = 1;
    auto app = program("app");
    app.depends_on = {"db"};
    fixture f({db, app});
    f.supervisor.start_all();
    f.settle();
    REQUIRE(f.process("app").held() == "waiting for db to be ready");
    f.supervisor.stop(f.process("app"));
    CHECK(f.process("app").held().empty());
    f.advance(1s);
    CHECK(f.process("db").ready());
    CHECK(f.spawns("app") == 0);
}

TEST_CASE("scaling starts numbered copies and stops the highest ones gracefully") {
    fixture f({program("worker")});
    f.supervisor.start_all();
    REQUIRE_FALSE(f.supervisor.scale("worker", 3));
    CHECK(f.spawns("worker") == 3);
    CHECK(f.supervisor.processes().size() == 3);
    CHECK(f.supervisor.processes()[2]->config().name == "worker-3");
    CHECK(f.supervisor.processes()[2]->instance() == 3);
    auto third = f.calls->children["worker"][2];
    REQUIRE_FALSE(f.supervisor.scale("worker", 1));
    f.settle();
    CHECK(third->signals == std::vector<int>{SIGTERM, SIGCONT});
    REQUIRE(f.supervisor.processes().size() == 1);
    CHECK(f.supervisor.processes()[0]->config().name == "worker");
    CHECK(f.calls->children["worker"][0]->signals.empty());  // the first copy was not touched
    CHECK(f.supervisor.scale("worker", 0) == std::string("instances must be between 1 and 16"));
    CHECK(f.supervisor.scale("nobody", 2) == std::string("unknown process \"nobody\""));
}

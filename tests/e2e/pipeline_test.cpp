// The whole pipeline through the real binary: `orderstream run` with the embedded cluster,
// watched only through its HTTP API, as a user or a script would.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <regex>
#include <set>

#include "support/daemon_process.hpp"

using namespace orderstream::testing;

namespace {

// Order ids found in a terminal's lines by a pattern with one capture group.
std::set<long> ids_in(const nlohmann::json& lines, const std::regex& pattern) {
    std::set<long> ids;
    for (const auto& entry : lines) {
        std::smatch match;
        std::string line = entry["line"];
        if (std::regex_search(line, match, pattern)) ids.insert(std::stol(match[1]));
    }
    return ids;
}

const std::regex delivered(R"(^Delivered order (\d+) )");
const std::regex processed(R"(\] order (\d+)\b)");

}  // namespace

TEST_CASE("every delivered order is processed by all three consumers; clear; clean stop") {
    daemon_process daemon("[producer]\ndelay_seconds = 0.1\n");

    std::set<long> produced;
    bool enough = wait_until(
        [&] {
            produced = ids_in(daemon.get("/api/outputs").json()["producer"], delivered);
            return produced.size() >= 20;
        },
        std::chrono::seconds(60));
    INFO(daemon.log());
    REQUIRE(enough);

    // Stop the producer so the set of orders is final, then wait for the consumers to catch up.
    REQUIRE(daemon.post("/api/processes/producer/stop").status == 200);
    REQUIRE(wait_until([&] { return daemon.get("/api/processes").json()[0]["state"] == "STOPPED"; },
                       std::chrono::seconds(20)));
    auto outputs = daemon.get("/api/outputs").json();
    produced = ids_in(outputs["producer"], delivered);
    REQUIRE(produced.size() >= 20);

    std::map<std::string, std::set<long>> seen;
    bool caught_up = wait_until(
        [&] {
            auto now = daemon.get("/api/outputs").json();
            bool all = true;
            for (const char* terminal : {"shipping", "email", "analytics"}) {
                seen[terminal] = ids_in(now[terminal], processed);
                for (long id : produced) all = all && seen[terminal].count(id);
            }
            return all;
        },
        std::chrono::seconds(60));
    for (const char* terminal : {"shipping", "email", "analytics"}) {
        INFO(terminal << " processed " << seen[terminal].size() << " of " << produced.size());
        for (long id : produced) CHECK(seen[terminal].count(id) == 1);
    }
    REQUIRE(caught_up);

    // Clear one terminal: it is empty, the others are not.
    REQUIRE(daemon.post("/api/clear/email").status == 200);
    outputs = daemon.get("/api/outputs").json();
    CHECK(outputs["email"].empty());
    CHECK_FALSE(outputs["shipping"].empty());
    CHECK_FALSE(outputs["producer"].empty());

    // SIGTERM: exit 0, and no child left.
    auto children = daemon.child_pids();
    CHECK(children.size() == 3);
    int status = daemon.terminate();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    for (pid_t child : children) CHECK_FALSE(process_alive(child));
    auto log = daemon.log();
    CHECK(log.find("all children stopped") != std::string::npos);
}

TEST_CASE("no child outlives a daemon killed with SIGKILL") {
    daemon_process daemon(R"(
[[processes]]
name = "one"
command = "sleep"
args = ["300"]
[[processes]]
name = "two"
command = "/bin/sh"
args = ["-c", "trap '' TERM; sleep 300"]
)");
    std::vector<pid_t> children;
    REQUIRE(wait_until([&] { return (children = daemon.child_pids()).size() == 2; }, std::chrono::seconds(10)));
    for (pid_t child : children) REQUIRE(process_alive(child));
    daemon.kill_hard();
    for (pid_t child : children) {
        INFO("child " << child);
        CHECK(wait_until([&] { return !process_alive(child); }, std::chrono::seconds(10)));
    }
}

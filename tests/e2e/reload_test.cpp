// Reloading the config (SIGHUP, POST /api/reload) applies [[processes]] as supervisord's
// `update` does: added ones start, removed ones stop, changed ones restart, unchanged ones keep
// their pid. A config with errors changes nothing and says why.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <map>

#include "support/daemon_process.hpp"

using namespace orderstream::testing;
using namespace std::chrono_literals;

namespace {

std::string process(const std::string& name, const std::string& script, const std::string& terminal = "") {
    return "[[processes]]\nname = \"" + name + "\"\ncommand = \"/bin/sh\"\nargs = [\"-c\", \"" + script + "\"]\n" +
           (terminal.empty() ? "" : "terminal = \"" + terminal + "\"\n");
}

const std::string first_config = process("steady", "echo steady up; sleep 300") +
                                 process("leaving", "echo leaving up; sleep 300") +
                                 process("changing", "echo changing v1; sleep 300");
const std::string second_config = process("steady", "echo steady up; sleep 300") +
                                  process("changing", "echo changing v2; sleep 300") +
                                  process("arriving", "echo arriving up; sleep 300", "extra");

// name -> pid of the processes that are RUNNING or STARTING with a pid.
std::map<std::string, long> live(const daemon_process& daemon) {
    std::map<std::string, long> pids;
    for (const auto& p : daemon.get("/api/processes").json())
        if (p["pid"].is_number()) pids[p["name"]] = p["pid"].get<long>();
    return pids;
}

std::vector<std::string> names_in(const daemon_process& daemon) {
    std::vector<std::string> names;
    for (const auto& p : daemon.get("/api/processes").json()) names.push_back(p["name"]);
    return names;
}

bool terminal_has(const daemon_process& daemon, const std::string& terminal, const std::string& text) {
    auto body = daemon.get("/api/outputs").json();
    if (!body.contains(terminal)) return false;
    for (const auto& line : body[terminal])
        if (line.value("line", "").find(text) != std::string::npos) return true;
    return false;
}

void rewrite(const daemon_process& daemon, const std::string& toml) { std::ofstream(daemon.config_path()) << toml; }

// The second config applied: steady untouched, leaving gone, changing restarted with its new
// settings, arriving started into a terminal of its own.
void check_second_applied(const daemon_process& daemon, long steady_pid, long changing_pid) {
    INFO(daemon.log());
    REQUIRE(wait_until([&] {
        auto pids = live(daemon);
        return names_in(daemon) == std::vector<std::string>{"steady", "changing", "arriving"} && pids.count("changing") &&
               pids["changing"] != changing_pid && pids.count("arriving");
    }, 10s));
    CHECK(live(daemon)["steady"] == steady_pid);
    CHECK(wait_until([&] { return terminal_has(daemon, "changing", "changing v2"); }, 5s));
    CHECK(wait_until([&] { return terminal_has(daemon, "extra", "arriving up"); }, 5s));
    CHECK(terminal_has(daemon, "leaving", "leaving up"));  // a removed process's output stays
}

}  // namespace

TEST_CASE("SIGHUP applies added, removed and changed processes and leaves the others alone", "[reload]") {
    daemon_process daemon(first_config);
    REQUIRE(wait_until([&] { return live(daemon).size() == 3; }, 10s));
    const auto before = live(daemon);
    rewrite(daemon, second_config);
    REQUIRE(::kill(daemon.pid(), SIGHUP) == 0);
    check_second_applied(daemon, before.at("steady"), before.at("changing"));
    CHECK(daemon.log().find("config reloaded: added arriving; removed leaving; changed changing; 1 unchanged") !=
          std::string::npos);
}

TEST_CASE("POST /api/reload answers with what changed", "[reload]") {
    daemon_process daemon(first_config);
    REQUIRE(wait_until([&] { return live(daemon).size() == 3; }, 10s));
    const auto before = live(daemon);
    rewrite(daemon, second_config);
    auto reply = daemon.post("/api/reload");
    REQUIRE(reply.status == 200);
    auto changes = reply.json();
    CHECK(changes["added"] == nlohmann::json{"arriving"});
    CHECK(changes["removed"] == nlohmann::json{"leaving"});
    CHECK(changes["changed"] == nlohmann::json{"changing"});
    CHECK(changes["unchanged"] == nlohmann::json{"steady"});
    check_second_applied(daemon, before.at("steady"), before.at("changing"));
    // Nothing left to change: a second reload touches nothing.
    auto again = daemon.post("/api/reload").json();
    CHECK(again["unchanged"].size() == 3);
    CHECK(again["added"].empty());
}

TEST_CASE("a config with errors is refused, and the daemon runs on as before", "[reload]") {
    daemon_process daemon(first_config);
    REQUIRE(wait_until([&] { return live(daemon).size() == 3; }, 10s));
    const auto before = live(daemon);
    rewrite(daemon, first_config + "[[processes]]\nname = \"steady\"\nargs = [\"again\"]\n");  // a duplicate name

    auto reply = daemon.post("/api/reload");
    CHECK(reply.status == 422);
    CHECK(reply.body.find("the config was not reloaded") != std::string::npos);
    CHECK(reply.body.find("steady") != std::string::npos);  // says which process

    REQUIRE(::kill(daemon.pid(), SIGHUP) == 0);
    INFO(daemon.log());
    CHECK(wait_until([&] { return daemon.log().find("error [main] the config was not reloaded") != std::string::npos; }, 5s));
    CHECK(live(daemon) == before);
    CHECK(process_alive(daemon.pid()));
}

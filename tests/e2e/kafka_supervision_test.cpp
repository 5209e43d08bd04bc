// Supervision that knows Kafka, on the embedded cluster with real children: scaling a group's
// consumer to several copies and back, a stalled (SIGSTOPped) copy noticed and restarted, and
// processes started in dependency order. The consumers' own output is the ledger; the API's
// figures must match it.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "support/daemon_process.hpp"
#include "support/ledger.hpp"

using namespace orderstream::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json copies_of(const daemon_process& daemon, const std::string& process) {
    json copies = json::array();
    const auto processes = daemon.get("/api/processes").json();
    for (const auto& p : processes)
        if (p["process"] == process) copies.push_back(p);
    return copies;
}

json process_named(const daemon_process& daemon, const std::string& name) {
    const auto processes = daemon.get("/api/processes").json();
    for (const auto& p : processes)
        if (p["name"] == name) return p;
    return json();
}

http_reply scale(const daemon_process& daemon, const std::string& process, int instances) {
    return http_request(daemon.port(), "POST", "/api/processes/" + process + "/scale",
                        "{\"instances\":" + std::to_string(instances) + "}");
}

// Every copy RUNNING, each holding partitions of its own, together all of `partitions`.
bool split_between(const json& copies, std::size_t count, const std::set<int>& partitions) {
    if (copies.size() != count) return false;
    std::set<int> seen;
    std::size_t held = 0;
    for (const auto& copy : copies) {
        if (copy["state"] != "RUNNING" || !copy["partitions"].is_array() || copy["partitions"].empty()) return false;
        for (int p : copy["partitions"]) seen.insert(p), ++held;
    }
    return seen == partitions && held == partitions.size();
}

// What each copy last said it holds, from its own lines in the terminal's file (which, unlike the
// ring of 1000 lines, still has a line from before the last 10 s of orders):
// "HH:MM:SS shipping-2 | Consumer shipping-group@host#pid holds partitions 0, 2".
std::map<std::string, std::set<int>> held_by_output(const std::string& file) {
    static const std::regex holds(R"(^\d\d:\d\d:\d\d (\S+) \| Consumer \S+ holds partitions ([0-9, ]+)$)");
    std::map<std::string, std::set<int>> held;
    std::istringstream lines(file);
    for (std::string line; std::getline(lines, line);) {
        std::smatch match;
        if (!std::regex_match(line, match, holds)) continue;
        auto& set = held[match[1]];
        set.clear();
        std::string list = match[2];
        for (std::size_t at = 0; at < list.size();) {
            set.insert(std::stoi(list.substr(at)));
            at = list.find(", ", at);
            at = at == std::string::npos ? list.size() : at + 2;
        }
    }
    return held;
}

// Order ids in a terminal's file ("HH:MM:SS [shipping-2 | ][shipping] order 1001 ..."), with the
// times each was processed.
std::map<long, int> processed_in(const std::string& file) {
    static const std::regex processed(R"(\[(?:shipping|email|analytics)\] order (\d+)[: ])");
    std::map<long, int> times;
    for (std::sregex_iterator it(file.begin(), file.end(), processed), end; it != end; ++it) ++times[std::stol((*it)[1])];
    return times;
}

// Every group has committed every one of `orders` orders and accounts for all of them.
bool settled(const daemon_process& daemon, long orders) {
    for (const char* name : {"shipping-group", "email-group", "analytics-group"}) {
        auto group = group_named(daemon, name);
        if (group.is_null() || group["lag"] != 0 || group["processed"].get<long>() + group["lost"].get<long>() != orders)
            return false;
    }
    return true;
}

// The three consumers; `stalled_seconds` gives each its restart_when_stalled_seconds.
std::string consumers(const std::map<std::string, int>& stalled_seconds = {}) {
    std::string text;
    for (const std::string department : {"shipping", "email", "analytics"}) {
        text += "[[processes]]\nname = \"" + department + "\"\nargs = [\"consume\", \"" + department +
                "-group\"]\nnotify_ready = true\nstable_seconds = 1.0\n";
        if (stalled_seconds.count(department))
            text += "restart_when_stalled_seconds = " + std::to_string(stalled_seconds.at(department)) + "\n";
    }
    return text;
}

// Continues a stopped process when the test ends, however it ends.
struct continue_on_exit {
    std::vector<pid_t> pids;
    ~continue_on_exit() {
        for (pid_t pid : pids) ::kill(pid, SIGCONT);
    }
};

}  // namespace

TEST_CASE("a consumer scaled to three copies splits the partitions, and back to one loses no order", "[scale]") {
    constexpr long orders = 4000;  // at 100/s, still flowing when the copies go back to one
    temp_dir logs;
    daemon_process daemon("[capture]\nlog_dir = \"" + logs.path().string() + "\"\n" + consumers() +
                          "[[processes]]\nname = \"producer\"\nautorestart = false\nargs = [\"produce\", \"" +
                          std::to_string(orders) + "\", \"0.01\"]\ndepends_on = [\"shipping\", \"email\", \"analytics\"]\n");
    REQUIRE(wait_until([&] { return process_named(daemon, "shipping")["ready"] == true; }, 20s));

    auto reply = scale(daemon, "shipping", 3);
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    // The copies split the partitions, and their own word, in the one shipping terminal, matches the
    // API. Both at once: a further rebalance may start just after a split, and then both change.
    json copies;
    std::map<std::string, std::set<int>> said;
    const bool split = wait_until([&] {
        copies = copies_of(daemon, "shipping");
        if (!split_between(copies, 3, {0, 1, 2})) return false;
        said = held_by_output(daemon.get("/api/outputs/shipping/log").body);
        for (const auto& copy : copies)
            if (said[copy["name"]] != copy["partitions"].get<std::set<int>>()) return false;
        return true;
    }, 30s);
    INFO("the API says: " << copies.dump(1) << "\nthe terminal says: " << json(said).dump() << "\n" << daemon.log());
    REQUIRE(split);
    auto outputs = daemon.get("/api/outputs").json();
    CHECK(outputs.size() == 4);  // still one terminal per configured process
    // The members on the Kafka side are the copies, as the group view shows them.
    std::set<std::string> member_processes;
    const bool members = wait_until([&] {
        member_processes.clear();
        const auto group = group_named(daemon, "shipping-group");
        if (!group.is_object()) return false;
        for (const auto& member : group.value("members", json::array()))
            if (member["process"].is_string()) member_processes.insert(member["process"]);
        return member_processes == std::set<std::string>{"shipping", "shipping-2", "shipping-3"};
    }, 10s);
    INFO("members of processes: " << json(member_processes).dump());
    CHECK(members);

    // Back to one while the producer is still sending.
    auto producer = process_named(daemon, "producer");
    REQUIRE(producer["state"] != "EXITED");
    REQUIRE(scale(daemon, "shipping", 1).status == 200);
    REQUIRE(wait_until([&] { return split_between(copies_of(daemon, "shipping"), 1, {0, 1, 2}); }, 30s));
    CHECK(process_named(daemon, "producer")["state"] != "EXITED");  // the scale-down happened under load

    REQUIRE(wait_until([&] { return process_named(daemon, "producer")["state"] == "EXITED"; }, 120s));
    const bool done = wait_until([&] { return settled(daemon, orders); }, 60s);
    auto groups = daemon.get("/api/groups").json();
    INFO(groups.dump(1));
    REQUIRE(done);
    for (const auto& g : groups) CHECK(g["lost"] == 0);

    // Every order was processed by a shipping copy, as the shipping terminal's file says.
    std::string file;
    REQUIRE(wait_until([&] {
        file = daemon.get("/api/outputs/shipping/log").body;
        return processed_in(file).size() == static_cast<std::size_t>(orders);
    }, 10s));
    auto ledger = processed_in(file);
    CHECK(ledger.begin()->first == 1001);
    CHECK(ledger.rbegin()->first == 1000 + orders);
    long twice = 0;
    for (const auto& [id, times] : ledger) twice += times > 1;
    CHECK(group_named(daemon, "shipping-group")["duplicates"] == twice);
}

TEST_CASE("a SIGSTOPped consumer is shown stalled and restarted; without the option it is only shown", "[stall]") {
    // Shipping restarts after 10 s stalled; email has the option off.
    daemon_process daemon("[supervisor]\nhealth_window_seconds = 5\nstop_grace_seconds = 5\n" +
                          consumers({{"shipping", 10}}) +
                          "[[processes]]\nname = \"producer\"\nargs = [\"produce\", \"0\", \"0.02\"]\n"
                          "depends_on = [\"shipping\", \"email\", \"analytics\"]\n");
    auto healthy = [&] {
        for (const char* name : {"shipping-group", "email-group", "analytics-group"}) {
            auto group = group_named(daemon, name);
            if (group.is_null() || group["health"].is_null() || group["health"]["status"] != "OK" ||
                group["processed"].get<long>() < 50)
                return false;
        }
        return true;
    };
    REQUIRE(wait_until(healthy, 60s));
    const auto shipping = process_named(daemon, "shipping");
    const auto email = process_named(daemon, "email");
    const pid_t shipping_pid = shipping["pid"], email_pid = email["pid"];
    continue_on_exit guard{{shipping_pid, email_pid}};
    REQUIRE(::kill(shipping_pid, SIGSTOP) == 0);
    REQUIRE(::kill(email_pid, SIGSTOP) == 0);

    // Both groups show STALL and name the stopped copy.
    auto stalled_by = [&](const char* group_name, const std::string& copy) {
        auto health = group_named(daemon, group_name)["health"];
        return health.is_object() && health["status"] == "STALL" &&
               health["stalled"] == json::array({copy}) &&
               health["reason"].get<std::string>().find("held by " + copy) != std::string::npos;
    };
    const bool both_stalled = wait_until([&] { return stalled_by("shipping-group", "shipping") && stalled_by("email-group", "email"); }, 30s);
    INFO(daemon.get("/api/groups").body);
    REQUIRE(both_stalled);
    auto ready = daemon.get("/readyz");
    CHECK(ready.status == 503);
    CHECK_THAT(ready.body, Catch::Contains("shipping-group is STALL"));
    CHECK_THAT(daemon.get("/metrics").body, Catch::Contains("orderstream_group_status{group=\"email-group\",status=\"STALL\"} 1"));
    CHECK(process_named(daemon, "email")["stalled"] == true);

    // Shipping is restarted for it (SIGCONT, SIGTERM: a stopped process must still stop).
    json restarted;
    const bool shipping_restarted = wait_until([&] {
        restarted = process_named(daemon, "shipping");
        return restarted["restarts"] == 1 && restarted["state"] == "RUNNING" && restarted["pid"] != shipping_pid;
    }, 40s);
    INFO(restarted.dump(1) << "\n" << daemon.log());
    REQUIRE(shipping_restarted);
    bool stalled_reason = false;
    for (const auto& entry : restarted["history"]) stalled_reason |= entry["event"] == "STOPPING" && entry["reason"] == "stalled";
    CHECK(stalled_reason);
    CHECK_THAT(daemon.log(), Catch::Contains("shipping: its partitions have been stalled for"));
    CHECK_FALSE(process_alive(shipping_pid));
    // It stopped gracefully (SIGCONT let it see SIGTERM), not by SIGKILL after the grace period.
    CHECK_THAT(daemon.log(), !Catch::Contains("shipping did not stop within its grace period"));
    CHECK_THAT(daemon.get("/api/outputs/shipping/log").body + daemon.get("/api/outputs").body,
               Catch::Contains("Consumer shipping-group stopped: processed"));

    // Email, stalled as long, was left alone: same pid, no restart, still STALL.
    auto email_now = process_named(daemon, "email");
    CHECK(email_now["pid"] == email_pid);
    CHECK(email_now["restarts"] == 0);
    CHECK(stalled_by("email-group", "email"));

    // Continued, and with the producer stopped, every group drains to lag 0 with no order lost.
    REQUIRE(::kill(email_pid, SIGCONT) == 0);
    REQUIRE(daemon.post("/api/processes/producer/stop").status == 200);
    const bool drained = wait_until([&] {
        if (process_named(daemon, "producer")["state"] != "STOPPED") return false;
        for (const char* name : {"shipping-group", "email-group", "analytics-group"}) {
            auto group = group_named(daemon, name);
            if (group["lag"] != 0 || group["processed"].get<long>() + group["lost"].get<long>() == 0) return false;
        }
        return true;
    }, 60s);
    auto groups = daemon.get("/api/groups").json();
    INFO(groups.dump(1));
    REQUIRE(drained);
    for (const auto& g : groups) CHECK(g["lost"] == 0);
}

TEST_CASE("processes start once what they depend on is ready; a FATAL dependency holds its dependants") {
    daemon_process daemon(consumers() +
                          "[[processes]]\nname = \"producer\"\nargs = [\"produce\", \"0\", \"0.5\"]\n"
                          "depends_on = [\"shipping\", \"email\", \"analytics\"]\n"
                          "[[processes]]\nname = \"broken\"\ncommand = \"/bin/sh\"\nargs = [\"-c\", \"exit 3\"]\n"
                          "max_quick_failures = 2\nbackoff_initial_seconds = 0.05\n"
                          "[[processes]]\nname = \"waiter\"\ncommand = \"/bin/sh\"\nargs = [\"-c\", \"sleep 300\"]\n"
                          "depends_on = [\"broken\"]\n");
    REQUIRE(wait_until([&] { return process_named(daemon, "producer")["state"] == "RUNNING"; }, 30s));
    // The order, from the processes' own history: each consumer was ready (it holds its
    // partitions) before the producer started.
    auto first = [](const json& process, const std::string& event) {
        for (const auto& entry : process["history"])
            if (entry["event"] == event) return entry["t_ms"].get<std::int64_t>();
        return std::int64_t{-1};
    };
    const auto producer = process_named(daemon, "producer");
    const auto producer_started = first(producer, "STARTING");
    REQUIRE(producer_started > 0);
    for (const char* name : {"shipping", "email", "analytics"}) {
        auto consumer = process_named(daemon, name);
        INFO(name << ": " << consumer.dump());
        CHECK(consumer["partitions"] == json::array({0, 1, 2}));
        const auto ready = first(consumer, "ready");
        CHECK(ready > 0);
        CHECK(ready <= producer_started);
    }

    REQUIRE(wait_until([&] { return process_named(daemon, "broken")["state"] == "FATAL"; }, 20s));
    json waiter;
    REQUIRE(wait_until([&] {
        waiter = process_named(daemon, "waiter");
        return waiter["held"] == "not started: broken is FATAL";
    }, 10s));
    CHECK(waiter["state"] == "STOPPED");
    CHECK(waiter["pid"].is_null());
    CHECK_THAT(daemon.get("/readyz").body, Catch::Contains("waiter is STOPPED (not started: broken is FATAL)"));
}

TEST_CASE("scaling refuses what it cannot do, with the reason") {
    daemon_process daemon("[[processes]]\nname = \"talker\"\ncommand = \"/bin/sh\"\n"
                          "args = [\"-c\", \"while true; do echo tick; sleep 0.2; done\"]\n");
    CHECK(scale(daemon, "talker", 0).status == 422);
    CHECK(scale(daemon, "talker", 17).status == 422);
    CHECK(scale(daemon, "nobody", 2).status == 404);
    CHECK(http_request(daemon.port(), "POST", "/api/processes/talker/scale", "{\"instances\":\"2\"}").status == 400);
    CHECK(http_request(daemon.port(), "POST", "/api/processes/talker/scale", "not json").status == 400);
    REQUIRE(scale(daemon, "talker", 2).status == 200);
    CHECK(scale(daemon, "talker-2", 3).status == 422);  // a copy: its process is what scales
    // Both copies run and print into the one terminal, each line tagged with its copy.
    REQUIRE(wait_until([&] {
        auto lines = daemon.get("/api/outputs").json()["talker"];
        bool first = false, second = false;
        for (const auto& line : lines) {
            first |= line["line"] == "talker | tick";
            second |= line["line"] == "talker-2 | tick";
        }
        return first && second;
    }, 10s));
    // A copy on its way out cannot be started again by hand.
    REQUIRE(scale(daemon, "talker", 1).status == 200);
    auto leaving = daemon.post("/api/processes/talker-2/start");
    if (leaving.status != 404) CHECK(leaving.status == 409);  // 404: it was already gone
    REQUIRE(wait_until([&] { return copies_of(daemon, "talker").size() == 1; }, 10s));

    // A reload keeps a count set by hand unless the file's own count changed.
    REQUIRE(scale(daemon, "talker", 2).status == 200);
    std::ofstream(daemon.config_path(), std::ios::app) << "[[processes]]\nname = \"other\"\ncommand = \"sleep\"\nargs = [\"300\"]\n";
    REQUIRE(daemon.post("/api/reload").status == 200);
    REQUIRE(wait_until([&] { return copies_of(daemon, "other").size() == 1; }, 10s));
    CHECK(copies_of(daemon, "talker").size() == 2);
    {
        std::ifstream in(daemon.config_path());
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        text.insert(text.find("args"), "instances = 3\n");
        std::ofstream(daemon.config_path()) << text;
    }
    REQUIRE(daemon.post("/api/reload").status == 200);
    REQUIRE(wait_until([&] { return copies_of(daemon, "talker").size() == 3; }, 10s));
    REQUIRE(scale(daemon, "talker", 1).status == 200);
    REQUIRE(wait_until([&] { return copies_of(daemon, "talker").size() == 1; }, 10s));
    CHECK(copies_of(daemon, "talker")[0]["name"] == "talker");
    const auto outputs = daemon.get("/api/outputs").json();
    CHECK(outputs.size() == 2);  // talker's and other's: copies have no terminal of their own
    CHECK(outputs.contains("talker"));
}

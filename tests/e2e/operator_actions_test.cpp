// The operator's actions on the embedded cluster with real children: replaying a group from the
// start, refusing a reset while a consumer the daemon does not run is in the group, and
// redriving dead letters once the reason they failed is gone. The consumers' own output is the
// ledger; the API's figures must match it.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <map>
#include <regex>

#include "support/daemon_process.hpp"
#include "support/ledger.hpp"
#include "support/kafka_tools.hpp"

using namespace orderstream::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string consumer(const std::string& department, const std::string& extra_args = "") {
    return "[[processes]]\nname = \"" + department + "\"\nargs = [\"consume\", \"" + department + "-group\"" + extra_args +
           "]\n";
}

http_reply post_json(const daemon_process& daemon, const std::string& target, const std::string& body) {
    return http_request(daemon.port(), "POST", target, body, {{"Content-Type", "application/json"}}, 60s);
}

// Every group has committed everything and processed `orders` orders, none lost.
bool settled(const daemon_process& daemon, long orders, const std::map<std::string, long>& processed = {}) {
    for (const char* name : {"shipping-group", "email-group", "analytics-group"}) {
        auto group = group_named(daemon, name);
        const long expected = processed.count(name) ? processed.at(name) : orders;
        if (group.is_null() || group["partitions"].size() != 3 || group["lag"] != 0 || group["processed"] != expected)
            return false;
    }
    return true;
}

// Kills a process started for the test when the test ends, however it ends.
struct kill_on_exit {
    pid_t pid = -1;
    ~kill_on_exit() {
        if (pid > 0) ::kill(pid, SIGKILL);
    }
};

}  // namespace

TEST_CASE("a reset of one group to earliest replays every order for that group only", "[reset]") {
    constexpr long orders = 120;
    daemon_process daemon("[capture]\nring_lines = 5000\n[[processes]]\nname = \"producer\"\nautorestart = false\n"
                          "args = [\"produce\", \"" + std::to_string(orders) + "\", \"0.01\"]\n" +
                          consumer("shipping") + consumer("email") + consumer("analytics"));
    bool done = wait_until([&] { return settled(daemon, orders); }, 90s);
    INFO(daemon.get("/api/groups").body << "\n" << daemon.log());
    REQUIRE(done);

    // A dry run plans it and changes nothing.
    const auto pids = daemon.child_pids();
    auto plan = post_json(daemon, "/api/groups/analytics-group/reset", R"({"to":"earliest","dry_run":true})");
    INFO(plan.body);
    REQUIRE(plan.status == 200);
    CHECK(plan.json()["replayed"] == orders);
    CHECK(plan.json()["copies"] == json{"analytics"});
    CHECK(daemon.child_pids() == pids);
    CHECK(group_named(daemon, "analytics-group")["lag"] == 0);

    auto reset = post_json(daemon, "/api/groups/analytics-group/reset", R"({"to":"earliest"})");
    INFO(reset.body);
    REQUIRE(reset.status == 200);
    CHECK(reset.json()["replayed"] == orders);
    CHECK(reset.json()["skipped"] == 0);
    const auto moved = reset.json()["partitions"];
    for (const auto& p : moved) CHECK(p["to"] == p["earliest"]);

    const std::map<std::string, long> after{{"analytics-group", 2 * orders}};
    done = wait_until([&] { return settled(daemon, orders, after); }, 90s);
    INFO(daemon.get("/api/groups").body);
    REQUIRE(done);
    auto analytics = group_named(daemon, "analytics-group");
    CHECK(analytics["replayed"] == orders);
    CHECK(analytics["duplicates"] == 0);
    CHECK(analytics["lost"] == 0);
    for (const char* name : {"shipping-group", "email-group"}) {
        auto group = group_named(daemon, name);
        CHECK(group["replayed"] == 0);
        CHECK(group["duplicates"] == 0);
        CHECK(group["lost"] == 0);
    }
    // The ledger: analytics processed every order twice, the others once.
    auto outputs = daemon.get("/api/outputs").json();
    auto analytics_ledger = processed_in(outputs["analytics"]);
    CHECK(analytics_ledger.size() == static_cast<std::size_t>(orders));
    for (const auto& [id, times] : analytics_ledger) CHECK(times == 2);
    for (const char* terminal : {"shipping", "email"}) {
        auto ledger = processed_in(outputs[terminal]);
        CHECK(ledger.size() == static_cast<std::size_t>(orders));
        for (const auto& [id, times] : ledger) CHECK(times == 1);
    }
    // Recorded once, with what it did; the dry run is not an action.
    int recorded = 0;
    const auto entries = daemon.get("/api/audit").json()["entries"];
    for (const auto& entry : entries)
        if (entry["action"] == "group.reset") {
            ++recorded;
            CHECK(entry["outcome"] == "ok");
            CHECK(entry["target"] == "analytics-group");
            CHECK(entry["detail"] == "to earliest; " + std::to_string(orders) + " to process again, 0 skipped");
        }
    CHECK(recorded == 1);
}

TEST_CASE("a reset is refused while a consumer the daemon does not run is in the group", "[reset]") {
    daemon_process daemon("[[processes]]\nname = \"producer\"\nargs = [\"produce\", \"0\", \"0.2\"]\n" + consumer("shipping"));
    REQUIRE(wait_until([&] { return group_named(daemon, "shipping-group")["processed"].get<long>() > 0; }, 60s));
    // A stranger's consumer in the same group: kcat's balanced consumer.
    temp_dir dir;
    kill_on_exit stranger;
    stranger.pid = ::fork();
    REQUIRE(stranger.pid >= 0);
    if (stranger.pid == 0) {
        const auto log = (dir.path() / "kcat.log").string();
        std::freopen(log.c_str(), "w", stdout);
        std::freopen(log.c_str(), "a", stderr);
        const auto bootstrap = embedded_bootstrap(daemon);
        ::execlp("kcat", "kcat", "-b", bootstrap.c_str(), "-G", "shipping-group", "orders", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Once it holds a partition, the daemon's consumer no longer holds all three.
    REQUIRE(wait_until([&] {
        for (const auto& p : daemon.get("/api/processes").json())
            if (p["name"] == "shipping" && p["partitions"].is_array() && p["partitions"].size() < 3 && !p["partitions"].empty())
                return true;
        return false;
    }, 60s));

    auto reset = post_json(daemon, "/api/groups/shipping-group/reset", R"({"to":"earliest"})");
    INFO(reset.body << "\n" << daemon.log());
    CHECK(reset.status == 409);
    CHECK_THAT(reset.json()["error"].get<std::string>(), Catch::Contains("has members"));
    // The daemon's own consumer runs again.
    CHECK(wait_until([&] {
        for (const auto& p : daemon.get("/api/processes").json())
            if (p["name"] == "shipping") return p["state"] == "RUNNING";
        return false;
    }, 30s));
    CHECK(group_named(daemon, "shipping-group")["replayed"] == 0);

    // Mistakes are refused before anything stops.
    CHECK(post_json(daemon, "/api/groups/shipping-group/reset", R"({"to":"start"})").status == 400);
    CHECK(post_json(daemon, "/api/groups/nobody-group/reset", R"({"to":"earliest"})").status == 404);
    CHECK(post_json(daemon, "/api/groups/shipping-group/reset", R"({"to":"offsets","offsets":{"7":0}})").status == 422);
}

TEST_CASE("dead letters redriven after their reason is gone are processed by every group, once", "[redrive]") {
    // Consumers that refuse orders over 300 bytes; the orders below are about 420 and 150.
    const std::string limited = R"(, "--max-order-bytes", "300")";
    daemon_process daemon("[capture]\nring_lines = 5000\n" + consumer("shipping", limited) + consumer("email", limited) +
                          consumer("analytics", limited));
    REQUIRE(wait_until([&] { return settled(daemon, 0); }, 60s));
    temp_dir dir;
    const auto records = dir.path() / "records.txt";
    {
        std::ofstream out(records);
        std::string items;
        for (int i = 0; i < 12; ++i) items += std::string(i ? ", " : "") + "\"Wireless Mouse\"";
        out << "9001\t{\"order_id\": 9001, \"user\": \"alice_smith\", \"timestamp\": \"2026-11-28T00:00:00.000Z\", \"items\": ["
            << items << "], \"total\": 359.88, \"status\": \"pending\"}\n";
        out << "9002\tthis is not json\n";
        out << "9003\t{\"order_id\": 9003, \"user\": \"bob_jones\", \"timestamp\": \"2026-11-28T00:00:00.000Z\", \"items\": "
               "[\"Desk Lamp\"], \"total\": 34.99, \"status\": \"pending\"}\n";
    }
    const auto bootstrap = embedded_bootstrap(daemon);
    kcat_produce(bootstrap, records);
    // Each group dead-letters the big order and the broken one, and processes the small one.
    auto letters_now = [&] { return daemon.get("/api/dead-letters").json(); };
    REQUIRE(wait_until([&] { return letters_now()["recent"].size() == 6 && settled(daemon, 1); }, 60s));
    auto counts = letters_now()["counts"];
    CHECK(counts["too_large"] == 3);
    CHECK(counts["not_json"] == 3);
    // Dead-lettered is not lost.
    auto trace = daemon.get("/api/orders/9001").json();
    CHECK(trace["dead_lettered_by"].size() == 3);
    CHECK(trace["lost"] == false);

    // The limit goes; the consumers restart with the new config.
    const auto limited_pids = daemon.child_pids();
    {
        std::ofstream config(daemon.config_path());
        config << "[capture]\nring_lines = 5000\n" << consumer("shipping") << consumer("email") << consumer("analytics");
    }
    auto reload = daemon.post("/api/reload");
    INFO(reload.body);
    REQUIRE(reload.status == 200);
    REQUIRE(wait_until([&] {
        int fresh = 0;
        for (const auto& p : daemon.get("/api/processes").json())
            fresh += p["state"] == "RUNNING" && p["partitions"].is_array() && !p["partitions"].empty() &&
                     std::find(limited_pids.begin(), limited_pids.end(), p["pid"].get<pid_t>()) == limited_pids.end();
        return fresh == 3;
    }, 60s));

    auto redrive = post_json(daemon, "/api/dead-letters/redrive", R"({"reason":"too_large"})");
    INFO(redrive.body << "\n" << daemon.log());
    REQUIRE(redrive.status == 200);
    auto items = redrive.json()["items"];
    REQUIRE(items.size() == 3);
    for (const auto& item : items) CHECK(item["outcome"] == "redriven");
    // One original record, so one record in the topic for all three dead letters.
    CHECK(items[0]["redriven"] == items[1]["redriven"]);
    CHECK(items[1]["redriven"] == items[2]["redriven"]);

    bool processed = wait_until([&] {
        auto t = daemon.get("/api/orders/9001").json();
        return t["processed"].size() == 3 && settled(daemon, 2);
    }, 60s);
    INFO(daemon.get("/api/groups").body);
    REQUIRE(processed);
    auto outputs = daemon.get("/api/outputs").json();
    for (const char* terminal : {"shipping", "email", "analytics"}) {
        auto ledger = processed_in(outputs[terminal]);
        CHECK(ledger[9001] == 1);
        CHECK(ledger[9003] == 1);
    }
    for (const char* name : {"shipping-group", "email-group", "analytics-group"}) {
        auto group = group_named(daemon, name);
        CHECK(group["lost"] == 0);
        CHECK(group["duplicates"] == 0);
    }
    // At most once unless asked again.
    auto again = post_json(daemon, "/api/dead-letters/redrive", R"({"reason":"too_large"})");
    REQUIRE(again.status == 200);
    const auto skipped = again.json()["items"];
    for (const auto& item : skipped) CHECK(item["outcome"] == "skipped");

    // A record that still fails goes back to the dead-letter topic with its redrive count.
    auto broken = post_json(daemon, "/api/dead-letters/redrive", R"({"reason":"not_json"})");
    REQUIRE(broken.status == 200);
    REQUIRE(wait_until([&] { return letters_now()["counts"]["not_json"] == 6; }, 60s));
    int counted = 0;
    const auto recent = letters_now()["recent"];
    for (const auto& letter : recent)
        if (letter["reason"] == "not_json" && letter["redriven_before"] == 1) ++counted;
    CHECK(counted == 3);
    // Every redrive is in the audit log.
    int recorded = 0;
    const auto entries = daemon.get("/api/audit").json()["entries"];
    for (const auto& entry : entries) recorded += entry["action"] == "dead_letters.redrive";
    CHECK(recorded == 3);
}

// The dashboard's accounting against what the consumers really did, on the embedded cluster:
// consumers started with test-only faults skip or repeat chosen orders, and /api/groups and
// /api/orders/{id} must name exactly those. The consumers' own output is the ledger.
#include <catch2/catch.hpp>

#include <map>
#include <regex>
#include <set>

#include "support/daemon_process.hpp"
#include "support/ledger.hpp"

using namespace orderstream::testing;
using nlohmann::json;

namespace {

std::string pipeline_config(const std::string& shipping_args, const std::string& email_args) {
    return R"(
[[processes]]
name = "producer"
autorestart = false
args = ["produce", "60", "0.02"]
[[processes]]
name = "shipping"
args = ["consume", "shipping-group")" + shipping_args + R"(]
[[processes]]
name = "email"
args = ["consume", "email-group")" + email_args + R"(]
[[processes]]
name = "analytics"
args = ["consume", "analytics-group"]
)";
}

}  // namespace

TEST_CASE("orders a consumer commits past without processing are reported lost, exactly those") {
    // Order ids start at 1001 in the embedded cluster's empty topic.
    const std::set<long> skipped{1005, 1020, 1041};
    const std::set<long> repeated{1003, 1030};
    daemon_process daemon(pipeline_config(R"(, "--test-skip-orders", "1005,1020,1041")",
                                          R"(, "--test-duplicate-orders", "1003,1030")"));

    // Done when every group has committed everything and its figures add up to 60 orders.
    auto settled = [&] {
        for (const char* name : {"shipping-group", "email-group", "analytics-group"}) {
            auto group = group_named(daemon, name);
            if (group.is_null() || group["partitions"].size() != 3 || group["lag"] != 0) return false;
            if (group["processed"].get<long>() + group["lost"].get<long>() != 60) return false;
        }
        return true;
    };
    bool done = wait_until(settled, std::chrono::seconds(90));
    auto groups = daemon.get("/api/groups").json();
    INFO(groups.dump(1) << "\n" << daemon.log());
    REQUIRE(done);

    auto outputs = daemon.get("/api/outputs").json();
    auto shipping_ledger = processed_in(outputs["shipping"]);
    auto email_ledger = processed_in(outputs["email"]);
    for (long id : skipped) CHECK_FALSE(shipping_ledger.count(id));
    for (long id : repeated) CHECK(email_ledger[id] == 2);

    auto shipping = group_named(daemon, "shipping-group");
    CHECK(shipping["lost"] == skipped.size());
    CHECK(shipping["processed"] == shipping_ledger.size());
    CHECK(shipping["duplicates"] == 0);
    auto email = group_named(daemon, "email-group");
    CHECK(email["lost"] == 0);
    CHECK(email["processed"] == email_ledger.size());
    CHECK(email["duplicates"] == repeated.size());
    auto analytics = group_named(daemon, "analytics-group");
    CHECK(analytics["lost"] == 0);
    CHECK(analytics["processed"] == 60);
    CHECK(analytics["duplicates"] == 0);

    for (long id : skipped) {
        auto trace = daemon.get("/api/orders/" + std::to_string(id)).json();
        INFO(trace.dump());
        CHECK(trace["lost"] == true);
        CHECK(trace["lost_by"] == json{"shipping-group"});
        CHECK(trace["processed"].contains("email-group"));
    }
    auto repeated_trace = daemon.get("/api/orders/1003").json();
    CHECK(repeated_trace["processed"]["email-group"]["times"] == 2);
    CHECK(repeated_trace["lost"] == false);

    // The same figures in /metrics.
    auto metrics = daemon.get("/metrics").body;
    CHECK(metrics.find("orderstream_orders_lost{group=\"shipping-group\"} 3") != std::string::npos);
    CHECK(metrics.find("orderstream_orders_duplicated{group=\"email-group\"} 2") != std::string::npos);
}

TEST_CASE("at 1 order/s the embedded cluster shows the pipeline's latency, and members by process") {
    daemon_process daemon("[producer]\ndelay_seconds = 1.0\n");
    // 30 s of orders, then every group has its p50 from about 30 samples.
    bool enough = wait_until(
        [&] {
            auto group = group_named(daemon, "analytics-group");
            return !group.is_null() && group["processed"].get<long>() >= 30;
        },
        std::chrono::seconds(60));
    INFO(daemon.log());
    REQUIRE(enough);
    std::map<std::string, int> pids;
    for (const auto& process : daemon.get("/api/processes").json())
        if (process["pid"].is_number()) pids[process["name"]] = process["pid"];

    const std::regex label(R"(^([a-z]+)-group@[^#\s]+#(\d+)$)");
    for (const auto& group : daemon.get("/api/groups").json()) {
        INFO(group.dump(1));
        REQUIRE(group["latency_ms"]["p50"].is_number());
        CHECK(group["latency_ms"]["p50"].get<long>() < 20);
        CHECK(group["lost"] == 0);
        REQUIRE(group["members"].size() == 1);
        const auto& member = group["members"][0];
        std::string text = member["label"];
        std::smatch match;
        REQUIRE(std::regex_match(text, match, label));
        CHECK(std::stoi(match[2]) == pids[match[1]]);  // the label's pid is the process
        CHECK(member["process"] == match[1].str());
        CHECK(member["external"] == false);
        CHECK(member["partitions"] == json{0, 1, 2});
        CHECK(text.find("0x") == std::string::npos);
    }
}

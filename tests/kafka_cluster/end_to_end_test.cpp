// The whole pipeline on the real 3-node cluster: `orderstream run --bootstrap-servers …`, 1000
// orders, each delivered one processed by every department; then analytics is replayed from the
// start (a reset through the API) and processes each order once more, counted as replayed.
#include <catch2/catch.hpp>

#include "kafka_cluster/kafka_cluster.hpp"
#include "kafka_cluster/pipeline_checks.hpp"
#include "kafka_cluster/pipeline_config.hpp"

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>

using namespace orderstream::testing;

TEST_CASE("1000 orders through the real cluster reach all three departments", "[end_to_end]") {
    kafka_cluster cluster;
    pipeline_config config;
    config.topic = cluster.create_topic("e2e");
    config.orders = 1000;
    auto first = std::make_unique<daemon_process>(config.toml(), std::vector<std::string>{"--bootstrap-servers", cluster.bootstrap()});
    const daemon_process& daemon = *first;
    output_collector out;
    out.attach(*first);

    require_all_processed(out, std::chrono::seconds(90), std::chrono::seconds(60));
    INFO(out.diagnostics());
    const auto& ledger = out.ledger();
    CHECK(ledger.delivered().size() == 1000);
    CHECK(ledger.delivery_failures() == 0);
    REQUIRE(ledger.producer_summaries().size() == 1);
    CHECK(ledger.producer_summaries()[0] ==
          "Producer stopped: 1000 delivered, 0 failed, 0 undelivered");
    for (const auto& [id, where] : ledger.delivered()) {
        CHECK(where.topic == config.topic);
        CHECK((where.partition >= 0 && where.partition < 3));
    }
    // Nothing disturbed the cluster: each department saw each order once.
    for (const auto& group : order_ledger::groups()) {
        CHECK(ledger.duplicated_orders(group) == 0);
        CHECK(ledger.dead_letters(group) == 0);
    }
    check_dashboard(daemon, out, "end_to_end");
    report_duplicates("end_to_end", out);

    // The replay: a real coordinator takes the commit of the emptied group.
    auto reset = http_request(daemon.port(), "POST", "/api/groups/analytics-group/reset", R"({"to":"earliest"})", {},
                              std::chrono::seconds(60));
    INFO(reset.body << "\n" << out.diagnostics());
    REQUIRE(reset.status == 200);
    CHECK(reset.json()["replayed"] == 1000);
    nlohmann::json analytics;
    const bool replayed = out.poll_until(
        [&] {
            analytics = groups_by_name(daemon).value("analytics-group", nlohmann::json());
            const auto& times = out.ledger().processed("analytics");
            return !analytics.is_null() && analytics["lag"] == 0 && analytics["processed"] == 2000 &&
                   std::all_of(times.begin(), times.end(), [](const auto& entry) { return entry.second == 2; });
        },
        std::chrono::seconds(90));
    INFO(analytics.dump(1));
    REQUIRE(replayed);
    CHECK(analytics["replayed"] == 1000);
    CHECK(analytics["duplicates"] == 0);
    CHECK(analytics["lost"] == 0);
    for (const char* other : {"shipping-group", "email-group"}) {
        const auto group = groups_by_name(daemon).value(other, nlohmann::json());
        CHECK(group["processed"] == 1000);
        CHECK(group["replayed"] == 0);
    }

    // A restarted daemon reads the reset's marker back among the records: the same figures,
    // no replay taken for a duplicate.
    const auto figures = [](const daemon_process& d) {
        std::map<std::string, std::string> by_group;
        for (const auto& group : d.get("/api/groups").json())
            by_group[group["group"]] = "processed " + group["processed"].dump() + ", replayed " + group["replayed"].dump() +
                                       ", duplicates " + group["duplicates"].dump() + ", lost " + group["lost"].dump();
        return by_group;
    };
    const auto before = figures(daemon);
    REQUIRE(first->terminate(std::chrono::seconds(30)) != -1);
    first.reset();
    config.orders.reset();  // consumers only: nothing new
    daemon_process second(config.toml(), {"--bootstrap-servers", cluster.bootstrap()});
    std::map<std::string, std::string> after;
    const bool same = wait_until([&] { return (after = figures(second)) == before; }, std::chrono::seconds(60));
    for (const auto& [group, text] : before) {
        INFO(group << " before the restart: " << text << "; after: " << after[group]);
        CHECK(after[group] == text);
    }
    REQUIRE(same);
    std::cout << "[kafka_cluster] end_to_end: analytics reset to earliest: 1000 replayed, ledger 2 runs each, "
              << "dashboard duplicates " << analytics["duplicates"] << "; after a daemon restart: " << after["analytics-group"]
              << std::endl;
}

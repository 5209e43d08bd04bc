// A rolling restart (graceful stop and start of each broker in turn, each back in sync before
// the next) under a steady stream of orders loses none of them.
#include <catch2/catch.hpp>

#include <iostream>

#include "kafka_cluster/kafka_cluster.hpp"
#include "kafka_cluster/pipeline_checks.hpp"
#include "kafka_cluster/pipeline_config.hpp"

using namespace orderstream::testing;
using namespace std::chrono_literals;

TEST_CASE("a rolling restart of all three brokers loses no delivered order", "[rolling_restart]") {
    kafka_cluster cluster;
    cluster.wait_fully_replicated(60s);
    auto config = cluster.pipeline_on_new_topic("rolling");
    config.orders = 0;  // until stopped: the restart's length decides how many
    config.delay_seconds = 0.005;
    daemon_process daemon(config.toml());
    output_collector out;
    out.attach(daemon);

    REQUIRE(out.poll_until(
        [&] {
            for (const auto& group : order_ledger::groups())
                if (out.ledger().processed(group).size() < 200) return false;
            return true;
        },
        60s));

    for (int node = 1; node <= 3; ++node) {
        const auto before = out.ledger().delivered().size();
        cluster.stop(node);
        out.keep_polling(2s);
        cluster.start(node);
        // Back in the ISR of every partition (ours and the offsets topic) before the next one.
        const bool in_sync = out.poll_until([&] { return cluster.fully_replicated(); }, 90s);
        std::string why;
        INFO("node " << node << " not back in sync: " << (cluster.fully_replicated(&why) ? "" : why));
        INFO(out.diagnostics());
        REQUIRE(in_sync);
        std::cout << "[kafka_cluster] rolling_restart: node " << node << " restarted, "
                  << out.ledger().delivered().size() - before << " deliveries meanwhile" << std::endl;
        CHECK(out.ledger().delivered().size() > before);
    }
    out.keep_polling(2s);
    REQUIRE(daemon.post("/api/processes/producer/stop").status == 200);

    require_all_processed(out, 60s, 120s);
    INFO(out.diagnostics());
    CHECK(out.ledger().delivered().size() >= 1000);
    check_dashboard(daemon, out, "rolling_restart");
    report_duplicates("rolling_restart", out);
}

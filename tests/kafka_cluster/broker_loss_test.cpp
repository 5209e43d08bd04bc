// kill -9 of the broker leading the most partitions while orders flow: every order with a
// successful delivery report is still processed by every department.
#include <catch2/catch.hpp>

#include <iostream>

#include "kafka_cluster/kafka_cluster.hpp"
#include "kafka_cluster/pipeline_checks.hpp"
#include "kafka_cluster/pipeline_config.hpp"

using namespace orderstream::testing;
using namespace std::chrono_literals;

TEST_CASE("no delivered order is lost when the busiest broker is killed", "[broker_loss]") {
    kafka_cluster cluster;
    auto config = cluster.pipeline_on_new_topic("broker-loss");
    config.orders = 0;  // until stopped: flowing before, during and after the broker's absence
    daemon_process daemon(config.toml());
    output_collector out;
    out.attach(daemon);

    // Orders flowing and every department busy before the broker goes.
    const bool flowing = out.poll_until(
        [&] {
            if (out.ledger().delivered().size() < 1000) return false;
            for (const auto& group : order_ledger::groups())
                if (out.ledger().processed(group).size() < 200) return false;
            return true;
        },
        60s);
    INFO(out.diagnostics());
    REQUIRE(flowing);

    const int victim = cluster.leader_of_most(config.topic);
    const auto delivered_before = out.ledger().delivered().size();
    cluster.kill(victim);
    std::cout << "[kafka_cluster] broker_loss: killed node " << victim << " after "
              << delivered_before << " deliveries" << std::endl;
    out.keep_polling(5s);
    const auto delivered_while_down = out.ledger().delivered().size() - delivered_before;
    cluster.start(victim);
    out.poll();
    std::cout << "[kafka_cluster] broker_loss: node " << victim << " back after "
              << out.ledger().delivered().size() << " deliveries (" << delivered_while_down
              << " in the 5 s it was down)" << std::endl;
    // Orders keep flowing with the broker back, until at least 5000 in all.
    const auto delivered_at_return = out.ledger().delivered().size();
    out.keep_polling(5s);
    out.poll_until([&] { return out.ledger().delivered().size() >= 5000; }, 60s);
    CHECK_FALSE(out.ledger().producer_stopped());
    CHECK(out.ledger().delivered().size() > delivered_at_return);
    REQUIRE(daemon.post("/api/processes/producer/stop").status == 200);

    require_all_processed(out, 60s, 120s);
    INFO(out.diagnostics());
    CHECK(out.ledger().delivered().size() >= 5000);
    CHECK(delivered_while_down > 0);
    check_dashboard(daemon, out, "broker_loss");
    report_duplicates("broker_loss", out);
    cluster.wait_fully_replicated(60s);
}

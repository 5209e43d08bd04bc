// A consumer killed with SIGKILL mid-stream is restarted by the supervisor and its group goes
// on from the last committed offset: nothing lost, at most re-processed.
#include <catch2/catch.hpp>

#include <signal.h>

#include <iostream>

#include "kafka_cluster/kafka_cluster.hpp"
#include "kafka_cluster/pipeline_checks.hpp"
#include "kafka_cluster/pipeline_config.hpp"

using namespace orderstream::testing;
using namespace std::chrono_literals;

TEST_CASE("a consumer killed mid-stream is restarted and its group loses nothing",
          "[consumer_crash]") {
    kafka_cluster cluster;
    auto config = cluster.pipeline_on_new_topic("consumer-crash");
    config.orders = 6000;
    daemon_process daemon(config.toml());
    output_collector out;
    out.attach(daemon);

    const std::string victim = "email";
    REQUIRE(out.poll_until([&] { return out.ledger().processed(victim).size() >= 2000; }, 60s));
    const auto before = process_status(daemon, victim);
    REQUIRE(before.pid > 0);
    const auto processed_before = out.ledger().processed(victim).size();
    REQUIRE(::kill(before.pid, SIGKILL) == 0);
    std::cout << "[kafka_cluster] consumer_crash: SIGKILLed " << victim << " (pid " << before.pid
              << ") after it processed " << processed_before << " orders" << std::endl;

    process_info after;
    const bool restarted = out.poll_until(
        [&] {
            after = process_status(daemon, victim);
            return after.pid > 0 && after.pid != before.pid && after.restarts > before.restarts;
        },
        30s);
    INFO(out.diagnostics());
    INFO("before: pid " << before.pid << " restarts " << before.restarts << "; now: pid "
                        << after.pid << " restarts " << after.restarts << " " << after.state);
    REQUIRE(restarted);
    CHECK_FALSE(process_alive(before.pid));

    require_all_processed(out, 120s, 120s);
    // The new consumer must have done real work, or the test did not cover the crash.
    CHECK(out.ledger().processed(victim).size() > processed_before);
    check_dashboard(daemon, out, "consumer_crash", victim);
    report_duplicates("consumer_crash", out);
}

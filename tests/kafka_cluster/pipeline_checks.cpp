// See pipeline_checks.hpp.
#include "kafka_cluster/pipeline_checks.hpp"

#include <catch2/catch.hpp>

#include <iostream>

namespace orderstream::testing {

void require_all_processed(output_collector& out, std::chrono::seconds producer_deadline,
                           std::chrono::seconds catch_up_deadline) {
    const bool producer_done =
        out.poll_until([&] { return out.ledger().producer_stopped(); }, producer_deadline);
    INFO(out.diagnostics());
    REQUIRE(producer_done);
    const bool caught_up = out.poll_until([&] { return out.ledger().all_processed(); }, catch_up_deadline);
    // One more poll: nothing new may be missing, and the summary is the latest.
    out.poll();
    INFO(out.diagnostics());
    CHECK(out.missed().empty());
    CHECK(out.ledger().reused_ids().empty());
    for (const auto& group : order_ledger::groups()) {
        INFO(group << " has not processed " << out.ledger().missing(group).size() << " of "
                   << out.ledger().delivered().size() << " delivered orders");
        CHECK(out.ledger().missing(group).empty());
    }
    REQUIRE(caught_up);
}

void report_duplicates(const std::string& test, const output_collector& out) {
    const auto& ledger = out.ledger();
    std::cout << "[kafka_cluster] " << test << ": " << ledger.delivered().size()
              << " orders delivered, " << ledger.delivery_failures() << " delivery failures;"
              << " orders processed more than once:";
    for (const auto& group : order_ledger::groups())
        std::cout << " " << group << "=" << ledger.duplicated_orders(group) << " (+"
                  << ledger.extra_runs(group) << " runs)";
    std::cout << std::endl;
}

process_info process_status(const daemon_process& daemon, const std::string& name) {
    process_info info;
    for (const auto& process : daemon.get("/api/processes").json()) {
        if (process.value("name", "") != name) continue;
        if (process["pid"].is_number()) info.pid = process["pid"].get<int>();
        info.restarts = process.value("restarts", 0);
        info.state = process.value("state", "");
    }
    return info;
}

}  // namespace orderstream::testing

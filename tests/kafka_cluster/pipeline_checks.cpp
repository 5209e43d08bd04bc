// See pipeline_checks.hpp.
#include "kafka_cluster/pipeline_checks.hpp"

#include <catch2/catch.hpp>

#include <iostream>

#include "kafka/processing_log.hpp"

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

nlohmann::json groups_by_name(const daemon_process& daemon) {
    nlohmann::json by_name = nlohmann::json::object();
    auto reply = daemon.get("/api/groups");
    if (reply.status != 200) return by_name;
    for (const auto& group : reply.json()) by_name[group.value("group", "")] = group;
    return by_name;
}

namespace {

// A consumer's processing records are flushed at least every this many orders.
const long max_batch = static_cast<long>(kafka::processing_log_options{}.max_batch);

}  // namespace

void check_dashboard(const daemon_process& daemon, output_collector& out, const std::string& test,
                     const std::string& killed_terminal, std::chrono::seconds deadline) {
    nlohmann::json groups;
    const bool caught_up = out.poll_until(
        [&] {
            groups = groups_by_name(daemon);
            for (const auto& terminal : order_ledger::groups()) {
                const auto group = groups.value(terminal + "-group", nlohmann::json());
                if (group.is_null() || group["lag"] != 0 || group["partitions"].empty() ||
                    group["processed"].get<std::size_t>() != out.ledger().processed(terminal).size())
                    return false;
            }
            return true;
        },
        deadline);
    INFO(test << ": /api/groups " << groups.dump(1));
    std::cout << "[kafka_cluster] " << test << ": dashboard against ledger:";
    for (const auto& terminal : order_ledger::groups()) {
        const auto group = groups.value(terminal + "-group", nlohmann::json::object());
        const long shown_processed = group.value("processed", -1L), shown_duplicates = group.value("duplicates", -1L);
        const long ledger_processed = static_cast<long>(out.ledger().processed(terminal).size());
        const long ledger_duplicates = static_cast<long>(out.ledger().duplicated_orders(terminal));
        std::cout << " " << terminal << " processed " << shown_processed << "/" << ledger_processed << ", duplicates "
                  << shown_duplicates << "/" << ledger_duplicates << ", lost " << group.value("lost", -1L) << ";";
        INFO(terminal);
        CHECK(group.value("lost", -1L) == 0);
        CHECK(shown_processed == ledger_processed);
        CHECK(shown_duplicates <= ledger_duplicates);
        if (terminal == killed_terminal) {
            std::cout << " (" << ledger_duplicates - shown_duplicates
                      << " processed again without a second record)";
            CHECK(ledger_duplicates - shown_duplicates <= max_batch);
        } else {
            CHECK(shown_duplicates == ledger_duplicates);
        }
    }
    std::cout << std::endl;
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

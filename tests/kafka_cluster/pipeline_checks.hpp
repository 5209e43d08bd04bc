// Waits and assertions shared by the cluster tests: the pipeline has finished, every delivered
// order was processed by every department, and what duplicates cost.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "kafka_cluster/output_collector.hpp"

namespace orderstream::testing {

// Polls until the producer has reported its end ("Producer stopped: …") and then until every
// delivered order has been processed by all three departments, each within its deadline.
// Fails (Catch2 CHECK/REQUIRE) with the missing ids per group and the daemon's log otherwise.
void require_all_processed(output_collector& out, std::chrono::seconds producer_deadline,
                           std::chrono::seconds catch_up_deadline);

// The dashboard against the ledger, once /api/groups has caught up (every group at lag 0 with
// `processed` equal to the ledger's distinct orders, within `deadline`): lost is 0, and shown
// duplicates never exceed the ledger's. They are equal unless `killed_terminal` names the
// consumer the test killed; then the orders it processed again without a second record (the
// crash window) are printed and must fit in one batch of processing records.
void check_dashboard(const daemon_process& daemon, output_collector& out, const std::string& test,
                     const std::string& killed_terminal = "",
                     std::chrono::seconds deadline = std::chrono::seconds(60));

// Prints one line per test: delivered orders and orders processed twice per group.
void report_duplicates(const std::string& test, const output_collector& out);

// /api/groups as an object keyed by group name.
nlohmann::json groups_by_name(const daemon_process& daemon);

// The pid and restart count of a process, from GET /api/processes.
struct process_info {
    int pid = -1;
    int restarts = 0;
    std::string state;
};
process_info process_status(const daemon_process& daemon, const std::string& name);

}  // namespace orderstream::testing

// The order consumer command: one consumer group member that processes orders for its
// department, dead-letters records it cannot decode, and commits at-least-once.
#pragma once

#include <atomic>
#include <chrono>
#include <ostream>
#include <set>
#include <string>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {

struct consumer_options {
    client_options kafka;
    std::string group_id;  // "shipping-group", "email-group" or "analytics-group"
    std::string topic = orders_topic;
    std::string dead_letter_topic = kafka::dead_letter_topic;
    // Where processing records go for the dashboard; empty: not at all.
    std::string acks_topic = kafka::acks_topic;
    // client.id and the label in processing records; empty: GROUP@HOST#PID.
    std::string client_label;
    // How long one dead-letter write may take before it counts as failed.
    std::chrono::milliseconds dead_letter_timeout{10000};
    // After a failed dead-letter write the partition pauses this long, doubling up to the max.
    std::chrono::milliseconds retry_backoff{1000};
    std::chrono::milliseconds retry_backoff_max{30000};
    // Orders larger than this are dead-lettered as too_large (at most orders::max_order_bytes).
    std::size_t max_order_bytes = 64 * 1024;
    // Test faults (documented as such in --help): orders whose offsets are stored without
    // processing them (a real loss), and orders processed twice (a real duplicate).
    std::set<std::int64_t> test_skip_orders, test_duplicate_orders;
};

// "shipping-group@host#1234": which process on which host a group member is.
std::string default_client_label(const std::string& group_id);

// Prints to `out`, one flushed line at a time:
//   Message #N received from partition P at offset O
//   <the department's line for the order>   or
//   [shipping] dead letter at partition P offset O: <reason>: <detail>
//   Consumer <group> stopped: processed N orders, M dead letters
// An offset is stored (and auto-committed) only after its record was processed and the cluster
// acknowledged its processing record (or its dead letter). Returns 0 after a clean stop, 1 if it could not start.
int run_consumer(const consumer_options& options, const std::atomic<bool>& stop, std::ostream& out);

}  // namespace orderstream::kafka

// The order consumer command: one consumer group member that processes orders for its
// department, dead-letters records it cannot decode, and commits at-least-once.
#pragma once

#include <atomic>
#include <chrono>
#include <ostream>
#include <string>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {

struct consumer_options {
    client_options kafka;
    std::string group_id;  // "shipping-group", "email-group" or "analytics-group"
    std::string topic = orders_topic;
    std::string dead_letter_topic = kafka::dead_letter_topic;
    // Where processed orders are acknowledged for the dashboard; empty: not at all.
    std::string acks_topic = kafka::acks_topic;
    // How long one dead-letter write may take before it counts as failed.
    std::chrono::milliseconds dead_letter_timeout{10000};
    // After a failed dead-letter write the partition pauses this long, doubling up to the max.
    std::chrono::milliseconds retry_backoff{1000};
    std::chrono::milliseconds retry_backoff_max{30000};
};

// Prints to `out`, one flushed line at a time:
//   Message #N received from partition P at offset O
//   <the department's line for the order>   or
//   [shipping] dead letter at partition P offset O: <reason>: <detail>
//   Consumer <group> stopped: processed N orders, M dead letters
// An offset is stored (and auto-committed) only after its record was processed or its dead
// letter acknowledged. Returns 0 after a clean stop, 1 if it could not start.
int run_consumer(const consumer_options& options, const std::atomic<bool>& stop, std::ostream& out);

}  // namespace orderstream::kafka

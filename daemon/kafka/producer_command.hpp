// The order producer command: generates orders and publishes them to Kafka, printing each order
// and its delivery report, until it has sent num_orders or is asked to stop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {

struct producer_options {
    client_options kafka;
    std::int64_t num_orders = 10;  // 0 = until stopped
    double delay_seconds = 2.0;    // between orders
    std::string topic = orders_topic;
    // Skips the start-up lookup of the highest order id already in the topic.
    std::optional<std::int64_t> first_order_id;
    // For reproducible runs; random when empty.
    std::optional<std::uint64_t> seed;
    // Bounds on the start-up id lookup and on the final flush.
    std::chrono::milliseconds id_lookup_timeout{5000};
    std::chrono::milliseconds flush_timeout{10000};
};

// Prints to `out`, one flushed line at a time:
//   Order #1001 from alice_smith / "  Items: …" / "  Total: $42.98"
//   Delivered order 1001 to orders [2] at offset 17      (or "Delivery failed for order 1001: …")
//   Producer stopped: N delivered, M failed, K undelivered
// Returns 0 when every order was delivered, 1 otherwise (including bad configuration).
int run_producer(const producer_options& options, const std::atomic<bool>& stop, std::ostream& out);

}  // namespace orderstream::kafka

// How a producer or consumer child reaches Kafka: bootstrap servers plus pass-through properties.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace orderstream::kafka {

// Environment variables through which the supervisor hands the cluster to every child, so that
// any command (not only this binary) can find it. Flags given to a child override them.
inline constexpr const char* bootstrap_env = "ORDERSTREAM_BOOTSTRAP_SERVERS";
// Newline-separated "key=value" librdkafka properties.
inline constexpr const char* properties_env = "ORDERSTREAM_KAFKA_PROPERTIES";

inline constexpr const char* default_bootstrap_servers = "localhost:9092";
inline constexpr const char* orders_topic = "orders";
inline constexpr const char* dead_letter_topic = "orders.dlq";
// Consumers acknowledge each processed order here, so the dashboard can trace orders and count
// lost and duplicate processing even for consumers running on other hosts.
inline constexpr const char* acks_topic = "orders.acks";

struct client_options {
    std::string bootstrap_servers = default_bootstrap_servers;
    // Applied in order after the built-in defaults, so a user can override any of them.
    std::vector<std::pair<std::string, std::string>> properties;
};

}  // namespace orderstream::kafka

// Creates the orders and dead-letter topics on an external cluster when they are missing, so
// a fresh cluster works without manual set-up.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {

inline constexpr int managed_topic_partitions = 3;

// Creates whichever of `orders`, `orders.dlq` and `orders.acks` is missing: 3 partitions,
// replication factor 3 and min.insync.replicas=2. A cluster that is still starting shows its
// brokers one by one: with fewer than 3 up, it creates them with one replica per broker only when
// `allow_fewer_replicas`, and otherwise reports that it waits. Topics that exist are left as they
// are. Returns nullopt on success, else what went wrong. Bounded by `timeout`.
std::optional<std::string> ensure_topics(const client_options& options,
                                         std::chrono::milliseconds timeout,
                                         bool allow_fewer_replicas = true);

}  // namespace orderstream::kafka

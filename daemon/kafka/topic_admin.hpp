// Creates the orders and dead-letter topics on an external cluster when they are missing, so
// a fresh cluster works without manual set-up.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {

inline constexpr int managed_topic_partitions = 3;

// Creates whichever of `orders` and `orders.dlq` is missing: 3 partitions, replication factor
// min(3, brokers), min.insync.replicas=2 when the factor is 3. Topics that exist are left as
// they are. Returns nullopt on success, else what went wrong. Bounded by `timeout`.
std::optional<std::string> ensure_topics(const client_options& options,
                                         std::chrono::milliseconds timeout);

}  // namespace orderstream::kafka

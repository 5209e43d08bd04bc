// Creates the orders and dead-letter topics on an external cluster when they are missing, so
// a fresh cluster works without manual set-up.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {

inline constexpr int managed_topic_partitions = 3;

// What ensure_topics found: `ready` (the topics exist or were made), `too_few_brokers` (missing
// topics not made because the cluster shows fewer brokers than replicas wanted) or `failed`.
enum class topics_outcome { ready, too_few_brokers, failed };

struct topics_check {
    topics_outcome outcome = topics_outcome::failed;
    std::string detail;  // what is missing or went wrong; empty when ready
    std::vector<std::pair<std::int32_t, std::string>> brokers;  // id, host:port; when too_few_brokers
};

// Creates whichever of `orders`, `orders.dlq` and `orders.acks` is missing: 3 partitions,
// `replication` replicas, and min.insync.replicas=2 from 3 replicas on. While the cluster shows
// fewer brokers than `replication` (one that is still starting shows them one by one) it makes
// none and says so. Topics that exist are left as they are. Bounded by `timeout`.
topics_check ensure_topics(const client_options& options, std::chrono::milliseconds timeout,
                           int replication = 3);

}  // namespace orderstream::kafka

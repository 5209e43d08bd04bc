// Finds the highest order id already in the orders topic, so a producer that the supervisor
// restarts continues the sequence instead of reusing ids.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {

// Records read from the end of each partition. More than one, so that a tombstone or a poison
// record written last does not hide the orders just before it.
inline constexpr std::int64_t order_id_lookup_tail = 8;

struct order_id_lookup_result {
    // Empty when the topic is missing, empty, or holds no valid order near its end.
    std::optional<std::int64_t> highest_id;
    // Set when the topic could not be (fully) read; highest_id may still hold a partial answer.
    std::optional<std::string> error;
};

// Reads the last order_id_lookup_tail records of every partition of `topic` with a short-lived,
// assign-only consumer (it joins no group and commits nothing). Bounded by `budget` overall.
order_id_lookup_result find_highest_order_id(const client_options& options,
                                             const std::string& topic,
                                             std::chrono::milliseconds budget);

}  // namespace orderstream::kafka

// Random but reproducible orders: a seeded generator so tests can replay the same sequence.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

#include "orders/order.hpp"

namespace orderstream::orders {

inline constexpr std::int64_t default_first_order_id = 1001;
inline constexpr int max_items_per_order = 4;

class order_generator {
public:
    explicit order_generator(std::uint64_t seed, std::int64_t first_id = default_first_order_id);

    // A pending order from a random user with 1 to max_items_per_order distinct products;
    // ids increase by one per call.
    order next(std::chrono::system_clock::time_point now);
    // The same into `o`, whose strings keep their capacity: no allocation once warm.
    void next(std::chrono::system_clock::time_point now, order& o);

    std::int64_t next_id() const { return next_id_; }

private:
    std::mt19937_64 rng_;
    std::int64_t next_id_;
};

}  // namespace orderstream::orders

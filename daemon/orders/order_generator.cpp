// Draws users and distinct products from the catalog.
#include "orders/order_generator.hpp"

#include <numeric>
#include <utility>

namespace orderstream::orders {

order_generator::order_generator(std::uint64_t seed, std::int64_t first_id)
    : rng_(seed), next_id_(first_id) {}

order order_generator::next(std::chrono::system_clock::time_point now) {
    order o;
    next(now, o);
    return o;
}

void order_generator::next(std::chrono::system_clock::time_point now, order& o) {
    std::uniform_int_distribution<std::size_t> pick_user(0, users.size() - 1);
    std::uniform_int_distribution<int> pick_count(1, max_items_per_order);

    o.order_id = next_id_++;
    o.user.assign(users[pick_user(rng_)]);
    format_timestamp(now, o.timestamp);
    o.status.assign("pending");

    // Partial Fisher-Yates: the first `count` slots end up a uniform sample without repeats.
    std::array<std::size_t, catalog.size()> indices{};
    std::iota(indices.begin(), indices.end(), std::size_t{0});
    const int count = pick_count(rng_);
    std::int64_t total_cents = 0;
    o.items.resize(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        std::uniform_int_distribution<std::size_t> pick(static_cast<std::size_t>(i),
                                                        indices.size() - 1);
        std::swap(indices[static_cast<std::size_t>(i)], indices[pick(rng_)]);
        const product& p = catalog[indices[static_cast<std::size_t>(i)]];
        o.items[static_cast<std::size_t>(i)].assign(p.name);
        total_cents += p.price_cents;
    }
    // Cents / 100 is the double nearest the exact decimal amount, so it prints as e.g. 42.98.
    o.total = static_cast<double>(total_cents) / 100.0;
}

}  // namespace orderstream::orders

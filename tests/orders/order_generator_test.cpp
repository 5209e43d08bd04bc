// Generated orders: valid users and products, distinct items, exact totals, increasing ids.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "orders/order_generator.hpp"

using namespace orderstream::orders;

namespace {

std::int64_t catalog_cents(const std::string& name) {
    for (const auto& p : catalog) {
        if (p.name == name) return p.price_cents;
    }
    FAIL("not in the catalog: " << name);
    return -1;
}

}  // namespace

TEST_CASE("generated orders are pending, from a known user, stamped with the given time",
          "[order_generator]") {
    order_generator gen(42);
    const auto now = std::chrono::system_clock::time_point{std::chrono::milliseconds(1234567)};
    const order o = gen.next(now);
    CHECK(o.order_id == 1001);
    CHECK(o.status == "pending");
    CHECK(o.timestamp == "1970-01-01T00:20:34.567Z");
    CHECK(std::find(users.begin(), users.end(), o.user) != users.end());
}

TEST_CASE("every order has 1 to 4 distinct catalog items and their exact total",
          "[order_generator]") {
    order_generator gen(7);
    std::set<std::size_t> sizes_seen;
    std::set<std::string> users_seen;
    for (int i = 0; i < 2000; ++i) {
        const order o = gen.next(std::chrono::system_clock::now());
        REQUIRE(o.items.size() >= 1);
        REQUIRE(o.items.size() <= 4);
        sizes_seen.insert(o.items.size());
        users_seen.insert(o.user);
        const std::set<std::string> distinct(o.items.begin(), o.items.end());
        REQUIRE(distinct.size() == o.items.size());
        std::int64_t cents = 0;
        for (const auto& item : o.items) cents += catalog_cents(item);
        // Exactly the double nearest the decimal amount: no accumulated float error.
        REQUIRE(o.total == static_cast<double>(cents) / 100.0);
    }
    CHECK(sizes_seen == std::set<std::size_t>{1, 2, 3, 4});
    CHECK(users_seen.size() == users.size());
}

TEST_CASE("ids increase by one from first_id", "[order_generator]") {
    order_generator gen(1, 5000);
    const auto now = std::chrono::system_clock::now();
    CHECK(gen.next(now).order_id == 5000);
    CHECK(gen.next(now).order_id == 5001);
    CHECK(gen.next(now).order_id == 5002);
    CHECK(gen.next_id() == 5003);
}

TEST_CASE("the same seed gives the same orders", "[order_generator]") {
    order_generator a(99), b(99);
    const auto now = std::chrono::system_clock::now();
    for (int i = 0; i < 20; ++i) {
        const order x = a.next(now), y = b.next(now);
        CHECK(x.user == y.user);
        CHECK(x.items == y.items);
    }
}

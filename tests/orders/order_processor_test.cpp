// The exact line each department prints for a processed order.
#include <catch2/catch.hpp>

#include "orders/order_processor.hpp"

using namespace orderstream::orders;

namespace {

const order sample{
    1001,  "alice_smith", "2026-11-24T18:12:49.123Z", {"Wireless Mouse", "USB-C Cable"},
    42.98, "pending"};

}  // namespace

TEST_CASE("groups map to departments", "[order_processor]") {
    CHECK(department_for_group("shipping-group") == department::shipping);
    CHECK(department_for_group("email-group") == department::email);
    CHECK(department_for_group("analytics-group") == department::analytics);
    CHECK_FALSE(department_for_group("shipping").has_value());
    CHECK_FALSE(department_for_group("").has_value());
}

TEST_CASE("department lines have the exact formats", "[order_processor]") {
    CHECK(describe(department::shipping, sample) ==
          "[shipping] order 1001 for alice_smith: pack 2 items (Wireless Mouse, USB-C Cable)");
    CHECK(describe(department::email, sample) ==
          "[email] order 1001: confirmation sent to alice_smith, total $42.98");
    CHECK(describe(department::analytics, sample) ==
          "[analytics] order 1001: revenue $42.98, 2 items, at 2026-11-24T18:12:49.123Z");
}

TEST_CASE("one item is singular and whole amounts keep two decimals", "[order_processor]") {
    const order one{7, "eve_adams", "2026-01-01T00:00:00.000Z", {"Laptop Stand"}, 45.0, "pending"};
    CHECK(describe(department::shipping, one) ==
          "[shipping] order 7 for eve_adams: pack 1 item (Laptop Stand)");
    CHECK(describe(department::email, one) ==
          "[email] order 7: confirmation sent to eve_adams, total $45.00");
    CHECK(describe(department::analytics, one) ==
          "[analytics] order 7: revenue $45.00, 1 item, at 2026-01-01T00:00:00.000Z");
}

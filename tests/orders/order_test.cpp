// The JSON form of an order and the timestamp format.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "orders/order.hpp"
#include "orders/order_generator.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

using namespace orderstream::orders;

TEST_CASE("to_json writes exactly the documented fields in order", "[order]") {
    order o{1001,  "alice_smith", "2026-11-24T18:12:49.123Z", {"Wireless Mouse", "USB-C Cable"},
            42.98, "pending"};
    const std::string text = to_json(o);
    CHECK(text == R"({"order_id":1001,"user":"alice_smith","timestamp":"2026-11-24T18:12:49.123Z",)"
                  R"("items":["Wireless Mouse","USB-C Cable"],"total":42.98,"status":"pending"})");

    const auto j = nlohmann::json::parse(text);
    CHECK(j.size() == 6);
    CHECK(j["order_id"].is_number_integer());
    CHECK(j["total"].is_number());
}

TEST_CASE("to_json rounds the total to two decimals", "[order]") {
    order o{7, "bob_jones", "2026-01-01T00:00:00.000Z", {"Desk Lamp"}, 34.98999999, "pending"};
    CHECK(nlohmann::json::parse(to_json(o))["total"].get<double>() == 34.99);
}

TEST_CASE("to_json keeps huge totals instead of turning them into null", "[order]") {
    order o{8, "bob_jones", "2026-01-01T00:00:00.000Z", {"Desk Lamp"}, 1e307, "pending"};
    const auto total = nlohmann::json::parse(to_json(o))["total"];
    REQUIRE(total.is_number());
    CHECK(total.get<double>() == 1e307);
}

TEST_CASE("format_timestamp is ISO-8601 UTC with milliseconds", "[order]") {
    using namespace std::chrono;
    const system_clock::time_point t{milliseconds(1795544969123LL)};
    CHECK(format_timestamp(t) == "2026-11-24T18:29:29.123Z");
    CHECK(format_timestamp(system_clock::time_point{}) == "1970-01-01T00:00:00.000Z");
    CHECK(format_timestamp(system_clock::time_point{milliseconds(-1)}) == "1969-12-31T23:59:59.999Z");
    CHECK(format_timestamp(system_clock::time_point{milliseconds(7258118399999LL)}) == "2199-12-31T23:59:59.999Z");
    CHECK(format_timestamp(system_clock::time_point{milliseconds(-5364662400000LL)}) == "1800-01-01T00:00:00.000Z");
}

TEST_CASE("format_amount and join_items", "[order]") {
    CHECK(format_amount(42.98) == "42.98");
    CHECK(format_amount(45.0) == "45.00");
    // The same text as printf's "%.2f", ties and the far ends included.
    for (double v : {0.0, -0.0, 0.005, 0.015, 0.125, 2.675, 1.005, 999.995, -1.255, 1e15 + 0.3, 1e300,
                     std::nextafter(0.5, 0.0), std::numeric_limits<double>::max(), HUGE_VAL, -HUGE_VAL}) {
        char expected[400];
        std::snprintf(expected, sizeof expected, "%.2f", v);
        CHECK(format_amount(v) == expected);
    }
    CHECK(join_items({"A", "B", "C"}) == "A, B, C");
    CHECK(join_items({}) == "");
}

TEST_CASE("append_json writes what nlohmann's ordered_json wrote, for generated and awkward orders", "[order]") {
    auto reference = [](const order& o) {
        nlohmann::ordered_json j;
        j["order_id"] = o.order_id;
        j["user"] = o.user;
        j["timestamp"] = o.timestamp;
        j["items"] = o.items;
        const double cents = o.total * 100.0;
        j["total"] = std::isfinite(cents) ? std::round(cents) / 100.0 : o.total;
        j["status"] = o.status;
        return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    };
    orderstream::orders::order_generator generator(42);
    order reused;
    std::string out;
    for (int i = 0; i < 2000; ++i) {
        generator.next(std::chrono::system_clock::time_point{std::chrono::milliseconds(1795544969123LL + i)}, reused);
        out.clear();
        append_json(reused, out);
        REQUIRE(out == reference(reused));
    }
    const order awkward{-5, "quote \" back\\slash \x01\x1f tab\t caf\xC3\xA9 \xF0\x9F\x93\xA6", "", {}, 100.0, "odd\nline"};
    CHECK(to_json(awkward) == reference(awkward));
    const order bad{9, "bad \xFF byte", "t", {"Monitor 27\""}, 0.1, "pending"};
    CHECK(to_json(bad) == reference(bad));
}

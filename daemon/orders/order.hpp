// An order as it travels on the "orders" topic, the catalog orders are drawn from, and the JSON
// form every producer and consumer agrees on.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace orderstream::orders {

struct product {
    std::string_view name;
    // Integer cents so that totals add up exactly (no floating-point drift).
    std::int64_t price_cents;
};

inline constexpr std::array<product, 8> catalog = {{
    {"Wireless Mouse", 2999},
    {"Mechanical Keyboard", 8999},
    {"USB-C Cable", 1299},
    {"Laptop Stand", 4500},
    {"Webcam HD", 7999},
    {"Headphones", 14999},
    {"Monitor 27\"", 29999},
    {"Desk Lamp", 3499},
}};

inline constexpr std::array<std::string_view, 5> users = {
    "alice_smith", "bob_jones", "charlie_brown", "diana_prince", "eve_adams",
};

struct order {
    std::int64_t order_id = 0;
    std::string user;
    std::string timestamp;  // ISO-8601 UTC with milliseconds, e.g. 2026-11-24T18:12:49.123Z
    std::vector<std::string> items;
    double total = 0.0;
    std::string status;
};

// {"order_id":…,"user":…,"timestamp":…,"items":[…],"total":…,"status":…} in that key order,
// with total rounded to 2 decimals; invalid UTF-8 in a string becomes U+FFFD.
std::string to_json(const order& o);
// The same, appended to `out`: with a reused `out`, no allocation per order.
void append_json(const order& o, std::string& out);

// ISO-8601 UTC with millisecond precision and a trailing 'Z'.
std::string format_timestamp(std::chrono::system_clock::time_point t);
// The same into `out` (replacing what it held, keeping its capacity).
void format_timestamp(std::chrono::system_clock::time_point t, std::string& out);

// "42.98": two decimals, no currency sign.
std::string format_amount(double amount);

// "Wireless Mouse, USB-C Cable"
std::string join_items(const std::vector<std::string>& items);

}  // namespace orderstream::orders

// What each consumer group does with an order: one department per group, one line per order.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "orders/order.hpp"

namespace orderstream::orders {

enum class department { shipping, email, analytics };

// "shipping", "email", "analytics": also the tag in every line the consumer prints.
std::string_view to_string(department d);

// "shipping-group" → shipping, "email-group" → email, "analytics-group" → analytics.
std::optional<department> department_for_group(std::string_view group_id);

// The one line a consumer prints for a processed order, e.g.
//   [shipping] order 1001 for alice_smith: pack 2 items (Wireless Mouse, USB-C Cable)
//   [email] order 1001: confirmation sent to alice_smith, total $42.98
//   [analytics] order 1001: revenue $42.98, 2 items, at 2026-11-24T18:12:49.123Z
// Other tools parse the "] order <id>" part; keep it stable.
std::string describe(department d, const order& o);

}  // namespace orderstream::orders

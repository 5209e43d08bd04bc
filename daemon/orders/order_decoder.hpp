// Turns a raw Kafka record value into an order, or says exactly why it is poison, so a
// consumer can dead-letter bad input instead of crashing or blocking its partition.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "orders/order.hpp"

namespace orderstream::orders {

// Orders are a few hundred bytes; anything this big is a mistake or an attack, and refusing it
// before parsing bounds the memory a single record can cost.
inline constexpr std::size_t max_order_bytes = 64 * 1024;

enum class poison_reason {
    tombstone,
    too_large,
    invalid_utf8,
    not_json,
    not_object,
    missing_field,
    wrong_type,
    invalid_value,
};

std::string_view to_string(poison_reason reason);

struct decode_result {
    std::optional<order> value;
    // Meaningful only when value is empty.
    poison_reason reason = poison_reason::not_json;
    // A sentence for people, naming the field at fault, e.g. missing field "user".
    std::string detail;

    bool ok() const { return value.has_value(); }
};

// `data == nullptr` is a tombstone (a record with a null value). A record over `max_bytes`
// (at most max_order_bytes) is too_large. Never throws.
decode_result decode_order(const void* data, std::size_t size, std::size_t max_bytes = max_order_bytes);

}  // namespace orderstream::orders

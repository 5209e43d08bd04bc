// Validation of incoming order payloads: size, encoding, syntax, then every field.
#include "orders/order_decoder.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "text/utf8.hpp"

namespace orderstream::orders {

namespace {

using json = nlohmann::json;

decode_result poison(poison_reason reason, std::string detail) {
    decode_result r;
    r.reason = reason;
    r.detail = std::move(detail);
    return r;
}

std::string quoted(std::string_view field) {
    std::string s = "\"";
    s += field;
    s += '"';
    return s;
}

std::string wrong_type_detail(std::string_view field, std::string_view expected, const json& v) {
    return quoted(field) + " must be " + std::string(expected) + ", got " + v.type_name();
}

}  // namespace

std::string_view to_string(poison_reason reason) {
    switch (reason) {
        case poison_reason::tombstone:
            return "tombstone";
        case poison_reason::too_large:
            return "too_large";
        case poison_reason::invalid_utf8:
            return "invalid_utf8";
        case poison_reason::not_json:
            return "not_json";
        case poison_reason::not_object:
            return "not_object";
        case poison_reason::missing_field:
            return "missing_field";
        case poison_reason::wrong_type:
            return "wrong_type";
        case poison_reason::invalid_value:
            return "invalid_value";
    }
    return "unknown";
}

decode_result decode_order(const void* data, std::size_t size, std::size_t max_bytes) {
    if (data == nullptr) {
        return poison(poison_reason::tombstone, "record has a null value (tombstone)");
    }
    max_bytes = std::min(max_bytes, max_order_bytes);
    if (size > max_bytes) {
        return poison(poison_reason::too_large, "payload is " + std::to_string(size) +
                                                    " bytes, the limit is " +
                                                    std::to_string(max_bytes));
    }
    const auto* bytes = static_cast<const unsigned char*>(data);
    // Checked before parsing so that the reason is invalid_utf8 rather than not_json.
    if (const auto valid = text::valid_prefix({static_cast<const char*>(data), size}); valid != size) {
        return poison(poison_reason::invalid_utf8, "payload is not valid UTF-8 at byte " + std::to_string(valid));
    }

    // allow_exceptions=false: a parse error yields a "discarded" value instead of throwing.
    const json doc = json::parse(bytes, bytes + size, nullptr, false);
    if (doc.is_discarded()) {
        return poison(poison_reason::not_json, "payload is not valid JSON");
    }
    if (!doc.is_object()) {
        return poison(poison_reason::not_object,
                      std::string("payload must be a JSON object, got ") + doc.type_name());
    }

    order o;
    const auto field = [&](std::string_view name) -> const json* {
        const auto it = doc.find(std::string(name));
        return it == doc.end() ? nullptr : &*it;
    };
    const auto missing = [](std::string_view name) {
        return poison(poison_reason::missing_field, "missing field " + quoted(name));
    };

    const json* id = field("order_id");
    if (!id) return missing("order_id");
    if (!id->is_number_integer()) {
        return poison(poison_reason::wrong_type, wrong_type_detail("order_id", "an integer", *id));
    }
    if (id->is_number_unsigned()) {
        const auto u = id->get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return poison(poison_reason::invalid_value,
                          quoted("order_id") + " is larger than a 64-bit signed integer");
        }
        o.order_id = static_cast<std::int64_t>(u);
    } else {
        o.order_id = id->get<std::int64_t>();
        if (o.order_id < 0) {
            return poison(poison_reason::invalid_value,
                          quoted("order_id") + " must be a non-negative integer");
        }
    }

    const json* user = field("user");
    if (!user) return missing("user");
    if (!user->is_string()) {
        return poison(poison_reason::wrong_type, wrong_type_detail("user", "a string", *user));
    }
    o.user = user->get<std::string>();
    if (o.user.empty()) {
        return poison(poison_reason::invalid_value, quoted("user") + " must not be empty");
    }

    const json* timestamp = field("timestamp");
    if (!timestamp) return missing("timestamp");
    if (!timestamp->is_string()) {
        return poison(poison_reason::wrong_type,
                      wrong_type_detail("timestamp", "a string", *timestamp));
    }
    o.timestamp = timestamp->get<std::string>();

    const json* items = field("items");
    if (!items) return missing("items");
    if (!items->is_array()) {
        return poison(poison_reason::wrong_type,
                      wrong_type_detail("items", "an array of strings", *items));
    }
    if (items->empty()) {
        return poison(poison_reason::invalid_value, quoted("items") + " must not be empty");
    }
    for (std::size_t i = 0; i < items->size(); ++i) {
        const json& item = (*items)[i];
        if (!item.is_string()) {
            return poison(poison_reason::wrong_type, quoted("items") + "[" + std::to_string(i) +
                                                         "] must be a string, got " +
                                                         item.type_name());
        }
        o.items.push_back(item.get<std::string>());
    }

    const json* total = field("total");
    if (!total) return missing("total");
    if (!total->is_number()) {
        return poison(poison_reason::wrong_type, wrong_type_detail("total", "a number", *total));
    }
    o.total = total->get<double>();
    // A literal like 1e999 parses to infinity; NaN cannot be written in JSON but is checked anyway.
    if (!std::isfinite(o.total) || o.total < 0.0) {
        return poison(poison_reason::invalid_value,
                      quoted("total") + " must be a non-negative finite number");
    }

    const json* status = field("status");
    if (!status) return missing("status");
    if (!status->is_string()) {
        return poison(poison_reason::wrong_type, wrong_type_detail("status", "a string", *status));
    }
    o.status = status->get<std::string>();

    decode_result r;
    r.value = std::move(o);
    return r;
}

}  // namespace orderstream::orders

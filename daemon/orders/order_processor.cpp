// The per-department line for a processed order.
#include "orders/order_processor.hpp"

namespace orderstream::orders {

namespace {

std::string count_items(std::size_t n) { return std::to_string(n) + (n == 1 ? " item" : " items"); }

}  // namespace

std::string_view to_string(department d) {
    switch (d) {
        case department::shipping:
            return "shipping";
        case department::email:
            return "email";
        case department::analytics:
            return "analytics";
    }
    return "shipping";
}

std::optional<department> department_for_group(std::string_view group_id) {
    if (group_id == "shipping-group") return department::shipping;
    if (group_id == "email-group") return department::email;
    if (group_id == "analytics-group") return department::analytics;
    return std::nullopt;
}

std::string describe(department d, const order& o) {
    const std::string id = std::to_string(o.order_id);
    switch (d) {
        case department::email:
            return "[email] order " + id + ": confirmation sent to " + o.user + ", total $" +
                   format_amount(o.total);
        case department::analytics:
            return "[analytics] order " + id + ": revenue $" + format_amount(o.total) + ", " +
                   count_items(o.items.size()) + ", at " + o.timestamp;
        case department::shipping:
            break;
    }
    return "[shipping] order " + id + " for " + o.user + ": pack " + count_items(o.items.size()) +
           " (" + join_items(o.items) + ")";
}

}  // namespace orderstream::orders

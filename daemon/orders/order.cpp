// JSON and text formatting of orders.
#include "orders/order.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace orderstream::orders {

std::string to_json(const order& o) {
    // ordered_json keeps the documented key order; plain json would sort keys alphabetically.
    nlohmann::ordered_json j;
    j["order_id"] = o.order_id;
    j["user"] = o.user;
    j["timestamp"] = o.timestamp;
    j["items"] = o.items;
    // Totals so large that cents overflow a double are already whole; keep them as they are.
    const double cents = o.total * 100.0;
    j["total"] = std::isfinite(cents) ? std::round(cents) / 100.0 : o.total;
    j["status"] = o.status;
    // Replace rather than throw on invalid UTF-8 in a caller-supplied string: this runs on the
    // data path, where exceptions are not allowed to escape.
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string format_timestamp(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto ms_since_epoch = duration_cast<milliseconds>(t.time_since_epoch()).count();
    // Floor division so that instants before 1970 still get a millisecond field in [0, 999].
    std::int64_t seconds = ms_since_epoch / 1000;
    std::int64_t millis = ms_since_epoch % 1000;
    if (millis < 0) {
        millis += 1000;
        seconds -= 1;
    }
    const std::time_t tt = static_cast<std::time_t>(seconds);
    std::tm utc{};
    gmtime_r(&tt, &utc);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(millis));
    return buf;
}

std::string format_amount(double amount) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", amount);
    return buf;
}

std::string join_items(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += ", ";
        out += item;
    }
    return out;
}

}  // namespace orderstream::orders

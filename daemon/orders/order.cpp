// JSON and text formatting of orders.
#include "orders/order.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "text/utf8.hpp"

namespace orderstream::orders {

namespace {

// A JSON string as nlohmann writes it: quotes, backslashes and control characters escaped,
// invalid UTF-8 replaced.
void append_string(std::string_view text, std::string& out) {
    std::string scratch;
    text = text::sanitize(text, scratch);
    out += '"';
    for (char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
                out += escaped;
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

// The shortest text that reads back as `value`, with ".0" on whole numbers, as nlohmann has it.
void append_number(double value, std::string& out) {
    char text[32];
    auto [end, error] = std::to_chars(text, text + sizeof text, value);
    if (error != std::errc()) return out.append("null"), void();
    out.append(text, end);
    if (std::string_view(text, static_cast<std::size_t>(end - text)).find_first_of(".e") == std::string_view::npos)
        out += ".0";
}

}  // namespace

void append_json(const order& o, std::string& out) {
    char id[24];
    auto [end, error] = std::to_chars(id, id + sizeof id, o.order_id);
    (void)error;  // 24 characters hold any 64-bit integer
    out += "{\"order_id\":";
    out.append(id, end);
    out += ",\"user\":";
    append_string(o.user, out);
    out += ",\"timestamp\":";
    append_string(o.timestamp, out);
    out += ",\"items\":[";
    for (std::size_t i = 0; i < o.items.size(); ++i) {
        if (i > 0) out += ',';
        append_string(o.items[i], out);
    }
    out += "],\"total\":";
    // Totals so large that cents overflow a double are already whole; keep them as they are.
    const double cents = o.total * 100.0;
    append_number(std::isfinite(cents) ? std::round(cents) / 100.0 : o.total, out);
    out += ",\"status\":";
    append_string(o.status, out);
    out += '}';
}

std::string to_json(const order& o) {
    std::string out;
    append_json(o, out);
    return out;
}

std::string format_timestamp(std::chrono::system_clock::time_point t) {
    std::string out;
    format_timestamp(t, out);
    return out;
}

void format_timestamp(std::chrono::system_clock::time_point t, std::string& out) {
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
    // By hand rather than snprintf: the producer formats one per order, and printf's parsing was
    // a visible share of its CPU at full speed. system_clock's nanoseconds span the years 1677 to
    // 2262, so the year always has four digits.
    const int year = utc.tm_year + 1900;
    char buf[] = "YYYY-MM-DDTHH:MM:SS.mmmZ";
    auto digits = [&buf](int at, int width, int value) {
        for (int i = width - 1; i >= 0; --i, value /= 10) buf[at + i] = static_cast<char>('0' + value % 10);
    };
    digits(0, 4, year);
    digits(5, 2, utc.tm_mon + 1);
    digits(8, 2, utc.tm_mday);
    digits(11, 2, utc.tm_hour);
    digits(14, 2, utc.tm_min);
    digits(17, 2, utc.tm_sec);
    digits(20, 3, static_cast<int>(millis));
    out.assign(buf, sizeof buf - 1);
}

std::string format_amount(double amount) {
    // to_chars rounds the exact binary value as printf's "%.2f" does, without parsing a format.
    char buf[400];  // room for the largest double in fixed notation
    auto [end, error] = std::to_chars(buf, buf + sizeof buf, amount, std::chars_format::fixed, 2);
    if (error != std::errc()) return "nan";
    return std::string(buf, end);
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

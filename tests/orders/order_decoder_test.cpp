// The decoder accepts what the producer writes and names the reason for each kind of poison.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "orders/order_decoder.hpp"
#include "orders/order_generator.hpp"

using namespace orderstream::orders;
using json = nlohmann::json;

namespace {

decode_result decode(const std::string& s) { return decode_order(s.data(), s.size()); }

json valid_order() {
    return json::parse(
        R"({"order_id":1001,"user":"alice_smith","timestamp":"2026-11-24T18:12:49.123Z",)"
        R"("items":["Wireless Mouse","USB-C Cable"],"total":42.98,"status":"pending"})");
}

void check_poison(const decode_result& r, poison_reason reason, const std::string& detail_part) {
    INFO("detail: " << r.detail);
    REQUIRE_FALSE(r.ok());
    CHECK(r.reason == reason);
    CHECK_THAT(r.detail, Catch::Contains(detail_part));
}

}  // namespace

TEST_CASE("a generated order survives the round trip", "[order_decoder]") {
    order_generator gen(3);
    for (int i = 0; i < 50; ++i) {
        const order o = gen.next(std::chrono::system_clock::now());
        const decode_result r = decode(to_json(o));
        REQUIRE(r.ok());
        CHECK(r.value->order_id == o.order_id);
        CHECK(r.value->user == o.user);
        CHECK(r.value->timestamp == o.timestamp);
        CHECK(r.value->items == o.items);
        CHECK(r.value->total == o.total);
        CHECK(r.value->status == "pending");
    }
}

TEST_CASE("reason names", "[order_decoder]") {
    CHECK(to_string(poison_reason::tombstone) == "tombstone");
    CHECK(to_string(poison_reason::too_large) == "too_large");
    CHECK(to_string(poison_reason::invalid_utf8) == "invalid_utf8");
    CHECK(to_string(poison_reason::not_json) == "not_json");
    CHECK(to_string(poison_reason::not_object) == "not_object");
    CHECK(to_string(poison_reason::missing_field) == "missing_field");
    CHECK(to_string(poison_reason::wrong_type) == "wrong_type");
    CHECK(to_string(poison_reason::invalid_value) == "invalid_value");
}

TEST_CASE("payload-level poison", "[order_decoder]") {
    SECTION("null payload is a tombstone") {
        check_poison(decode_order(nullptr, 0), poison_reason::tombstone, "tombstone");
    }
    SECTION("1 MB value is too large, whatever it contains") {
        std::string big(1024 * 1024, ' ');
        check_poison(decode(big), poison_reason::too_large, "1048576");
    }
    SECTION("exactly the limit is not too large") {
        std::string text = valid_order().dump();
        text.append(max_order_bytes - text.size(), ' ');
        CHECK(decode(text).ok());
        text += ' ';
        check_poison(decode(text), poison_reason::too_large, "bytes");
    }
    SECTION("invalid UTF-8 bytes") {
        json j = valid_order();
        std::string text = j.dump();
        const auto at = text.find("alice");
        text[at] = '\xC3';  // lead byte followed by 'l': truncated sequence
        check_poison(decode(text), poison_reason::invalid_utf8, "byte " + std::to_string(at));
        check_poison(decode("\"\xED\xA0\x80\""), poison_reason::invalid_utf8,
                     "UTF-8");                                                       // surrogate
        check_poison(decode("\"\xC0\xAF\""), poison_reason::invalid_utf8, "UTF-8");  // overlong
        check_poison(decode("\"\xF4\x90\x80\x80\""), poison_reason::invalid_utf8, "UTF-8");
    }
    SECTION("valid multi-byte UTF-8 is accepted") {
        json j = valid_order();
        j["user"] = "zoë_ångström_😀";
        REQUIRE(decode(j.dump()).ok());
        CHECK(decode(j.dump()).value->user == "zoë_ångström_😀");
    }
    SECTION("not JSON") {
        check_poison(decode("this is not json"), poison_reason::not_json, "JSON");
        check_poison(decode(""), poison_reason::not_json, "JSON");
        check_poison(decode(R"({"order_id": 1)"), poison_reason::not_json, "JSON");
        check_poison(decode("NaN"), poison_reason::not_json, "JSON");
    }
    SECTION("JSON that is not an object") {
        check_poison(decode("[1,2,3]"), poison_reason::not_object, "array");
        check_poison(decode("42"), poison_reason::not_object, "number");
        check_poison(decode("null"), poison_reason::not_object, "null");
    }
}

TEST_CASE("each missing field is named", "[order_decoder]") {
    for (const char* field : {"order_id", "user", "timestamp", "items", "total", "status"}) {
        json j = valid_order();
        j.erase(field);
        check_poison(decode(j.dump()), poison_reason::missing_field,
                     std::string("missing field \"") + field + "\"");
    }
}

TEST_CASE("fields of the wrong type", "[order_decoder]") {
    const std::vector<std::pair<std::string, json>> cases = {
        {"order_id", "1001"},
        {"order_id", 1001.5},
        {"user", 17},
        {"timestamp", 0},
        {"items", "Wireless Mouse"},
        {"items", json::array({"ok", 3})},
        {"total", "42.98"},
        {"total", "NaN"},
        {"total", nullptr},
        {"status", false},
    };
    for (const auto& [field, value] : cases) {
        json j = valid_order();
        j[field] = value;
        INFO(field << " = " << value.dump());
        check_poison(decode(j.dump()), poison_reason::wrong_type, "\"" + field + "\"");
    }
}

TEST_CASE("fields with invalid values", "[order_decoder]") {
    SECTION("negative total") {
        json j = valid_order();
        j["total"] = -0.01;
        check_poison(decode(j.dump()), poison_reason::invalid_value,
                     "\"total\" must be a non-negative");
    }
    SECTION("a total that overflows a double is rejected, never read as infinity") {
        std::string text = valid_order().dump();
        const auto at = text.find("42.98");
        text.replace(at, 5, "1e999");
        // nlohmann refuses the overflow while parsing.
        check_poison(decode(text), poison_reason::not_json, "JSON");
    }
    SECTION("negative order id") {
        json j = valid_order();
        j["order_id"] = -5;
        check_poison(decode(j.dump()), poison_reason::invalid_value, "\"order_id\"");
    }
    SECTION("order id beyond int64") {
        json j = valid_order();
        j["order_id"] = std::uint64_t{18446744073709551615ULL};
        check_poison(decode(j.dump()), poison_reason::invalid_value, "\"order_id\"");
    }
    SECTION("empty user") {
        json j = valid_order();
        j["user"] = "";
        check_poison(decode(j.dump()), poison_reason::invalid_value, "\"user\"");
    }
    SECTION("empty items") {
        json j = valid_order();
        j["items"] = json::array();
        check_poison(decode(j.dump()), poison_reason::invalid_value, "\"items\"");
    }
    SECTION("zero total and id are fine") {
        json j = valid_order();
        j["total"] = 0;
        j["order_id"] = 0;
        CHECK(decode(j.dump()).ok());
    }
}

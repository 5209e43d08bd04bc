// UTF-8 validity, one definition for the capture (which repairs) and the order decoder (which
// refuses): both must agree on every input.
#include <catch2/catch.hpp>

#include "orders/order_decoder.hpp"
#include "text/utf8.hpp"

using namespace orderstream::text;

TEST_CASE("invalid UTF-8 is replaced by U+FFFD, valid text is untouched") {
    std::string scratch;
    CHECK(sanitize("plain ascii", scratch) == "plain ascii");
    CHECK(sanitize("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xA6", scratch) == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xA6");
    CHECK(sanitize("a\xFFz", scratch) == "a\xEF\xBF\xBDz");
    CHECK(sanitize("\xC0\xAF", scratch) == "\xEF\xBF\xBD\xEF\xBF\xBD");                          // overlong
    CHECK(sanitize("\xED\xA0\x80", scratch) == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");        // surrogate
    CHECK(sanitize("\xF4\x90\x80\x80", scratch) == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // > U+10FFFF
    CHECK(sanitize("end\xE2\x82", scratch) == "end\xEF\xBF\xBD\xEF\xBF\xBD");                  // truncated
    // ASCII is checked eight bytes at a time: a bad byte is found at every offset of a long line.
    for (std::size_t at = 0; at < 21; ++at) {
        std::string line(21, 'x');
        line[at] = '\xFF';
        CAPTURE(at);
        CHECK(valid_prefix(line) == at);
        CHECK(sanitize(line, scratch) == line.substr(0, at) + "\xEF\xBF\xBD" + line.substr(at + 1));
    }
}

TEST_CASE("the order decoder refuses exactly what the capture repairs, at the same byte") {
    for (std::string bad : {"\xFF", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\xC3"}) {
        const std::string value = R"({"order_id":1,"user":"x)" + bad + R"("})";
        auto decoded = orderstream::orders::decode_order(value.data(), value.size());
        CAPTURE(value);
        REQUIRE_FALSE(decoded.ok());
        CHECK(decoded.reason == orderstream::orders::poison_reason::invalid_utf8);
        CHECK(decoded.detail == "payload is not valid UTF-8 at byte " + std::to_string(valid_prefix(value)));
    }
    const std::string good = R"({"order_id":1,"user":"caf)" "\xC3\xA9" R"(","timestamp":"2026-11-28T00:00:00.000Z","items":["Desk Lamp"],"total":34.99,"status":"pending"})";
    CHECK(valid_prefix(good) == good.size());
    CHECK(orderstream::orders::decode_order(good.data(), good.size()).ok());
}

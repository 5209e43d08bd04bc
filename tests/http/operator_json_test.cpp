// The request bodies of the operator's actions: each mistake is refused with a message that
// says what to send instead, and what is right is read exactly.
#include <catch2/catch.hpp>

#include "http/operator_json.hpp"

using namespace orderstream::http;
using orderstream::pipeline::reset_request;

namespace {

std::string error_of(const std::variant<reset_request, std::string>& parsed) {
    auto* error = std::get_if<std::string>(&parsed);
    return error ? *error : "";
}

}  // namespace

TEST_CASE("a reset request names where to, and nothing else") {
    auto earliest = parse_reset_request(R"({"to":"earliest"})");
    REQUIRE(std::holds_alternative<reset_request>(earliest));
    CHECK(std::get<reset_request>(earliest).to == reset_request::target::earliest);
    CHECK_FALSE(std::get<reset_request>(earliest).dry_run);

    auto offsets = parse_reset_request(R"({"to":"offsets","offsets":{"0":12,"2":40},"dry_run":true})");
    REQUIRE(std::holds_alternative<reset_request>(offsets));
    CHECK(std::get<reset_request>(offsets).offsets == std::map<std::int32_t, std::int64_t>{{0, 12}, {2, 40}});
    CHECK(std::get<reset_request>(offsets).dry_run);

    auto at = parse_reset_request(R"({"to":"timestamp","timestamp_ms":1764201600000})");
    REQUIRE(std::holds_alternative<reset_request>(at));
    CHECK(std::get<reset_request>(at).timestamp_ms == 1764201600000);

    CHECK_THAT(error_of(parse_reset_request("")), Catch::Contains("JSON object"));
    CHECK_THAT(error_of(parse_reset_request(R"({"to":"beginning"})")), Catch::Contains("\"earliest\""));
    CHECK_THAT(error_of(parse_reset_request(R"({"to":"timestamp"})")), Catch::Contains("timestamp_ms"));
    CHECK_THAT(error_of(parse_reset_request(R"({"to":"offsets","offsets":{"x":1}})")), Catch::Contains("not a partition"));
    CHECK_THAT(error_of(parse_reset_request(R"({"to":"offsets","offsets":{"0":-1}})")), Catch::Contains("≥ 0"));
    CHECK_THAT(error_of(parse_reset_request(R"({"to":"latest","force":true})")), Catch::Contains("unknown field \"force\""));
    CHECK_THAT(error_of(parse_reset_request(R"({"to":"latest","dry_run":"yes"})")), Catch::Contains("dry_run"));
}

TEST_CASE("a redrive request names dead letters or a reason, bounded") {
    auto listed = parse_redrive_request(R"({"dead_letters":[{"partition":1,"offset":7}],"again":true})");
    REQUIRE(std::holds_alternative<orderstream::pipeline::redrive_request>(listed));
    const auto& request = std::get<orderstream::pipeline::redrive_request>(listed);
    REQUIRE(request.dead_letters.size() == 1);
    CHECK(request.dead_letters[0].partition == 1);
    CHECK(request.dead_letters[0].offset == 7);
    CHECK(request.again);

    auto error = [](std::string_view body) {
        auto parsed = parse_redrive_request(body);
        auto* text = std::get_if<std::string>(&parsed);
        return text ? *text : "";
    };
    CHECK_THAT(error(R"({"reason":"too_large","dead_letters":[]})"), Catch::Contains("either"));
    CHECK_THAT(error(R"({})"), Catch::Contains("either"));
    CHECK_THAT(error(R"({"dead_letters":[{"partition":1}]})"), Catch::Contains("{\"partition\":P,\"offset\":O}"));
    CHECK_THAT(error(R"({"reason":""})"), Catch::Contains("reason"));
    std::string many = R"({"dead_letters":[)";
    for (int i = 0; i < 501; ++i) many += std::string(i ? "," : "") + R"({"partition":0,"offset":)" + std::to_string(i) + "}";
    CHECK_THAT(error(many + "]}"), Catch::Contains("at most 500"));
}

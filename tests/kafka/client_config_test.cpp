// Shared properties reach only the clients that use them; bad ones are named.
#include <catch2/catch.hpp>

#include "kafka/client_config.hpp"

using namespace orderstream::kafka;

TEST_CASE("property scopes come from librdkafka", "[client_config]") {
    CHECK_FALSE(applies_to("session.timeout.ms", client_kind::producer));
    CHECK(applies_to("session.timeout.ms", client_kind::consumer));
    CHECK(applies_to("linger.ms", client_kind::producer));
    CHECK_FALSE(applies_to("linger.ms", client_kind::consumer));
    CHECK(applies_to("bootstrap.servers", client_kind::producer));
    CHECK(applies_to("bootstrap.servers", client_kind::consumer));
    CHECK(applies_to("no.such.property", client_kind::producer));
}

TEST_CASE("user properties for the other kind of client are left out", "[client_config]") {
    const client_options options{"127.0.0.1:1", {{"session.timeout.ms", "not-a-number"}}};
    std::string error;
    CHECK(make_client_conf(options, client_kind::producer, {}, error) != nullptr);
    CHECK(make_client_conf(options, client_kind::consumer, {}, error) == nullptr);
    CHECK_THAT(error, Catch::Contains("session.timeout.ms=not-a-number"));
}

TEST_CASE("user properties override the command's defaults", "[client_config]") {
    const client_options options{"127.0.0.1:1", {{"linger.ms", "50"}}};
    std::string error;
    auto conf = make_client_conf(options, client_kind::producer, {{"linger.ms", "5"}}, error);
    REQUIRE(conf);
    std::string value;
    REQUIRE(conf->get("linger.ms", value) == RdKafka::Conf::CONF_OK);
    CHECK(value == "50");
}

TEST_CASE("an unknown property is refused with its name", "[client_config]") {
    std::string error;
    CHECK(make_client_conf({"127.0.0.1:1", {{"no.such.property", "1"}}}, client_kind::consumer, {},
                           error) == nullptr);
    CHECK_THAT(error, Catch::Contains("no.such.property"));
}

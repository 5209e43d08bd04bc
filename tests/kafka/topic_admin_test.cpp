// ensure_topics: nothing to do when the topics exist, a bounded error when Kafka is unreachable.
#include <catch2/catch.hpp>

#include "kafka/embedded_cluster.hpp"
#include "kafka/topic_admin.hpp"

using namespace orderstream::kafka;
using namespace std::chrono_literals;

TEST_CASE("ensure_topics succeeds when both topics already exist", "[topic_admin]") {
    auto cluster = embedded_cluster::start(3);
    const auto error = ensure_topics({cluster->bootstrap_servers(), {}}, 10s);
    CHECK(error == std::nullopt);
}

TEST_CASE("ensure_topics reports an unreachable cluster within its timeout", "[topic_admin]") {
    const auto started = std::chrono::steady_clock::now();
    const auto error = ensure_topics({"127.0.0.1:1", {}}, 1500ms);
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(error.has_value());
    CHECK_THAT(*error, Catch::Contains("127.0.0.1:1"));
    CHECK(took < 5s);
}

TEST_CASE("ensure_topics reports a bad property", "[topic_admin]") {
    const auto error = ensure_topics({"127.0.0.1:1", {{"no.such.property", "1"}}}, 1500ms);
    REQUIRE(error.has_value());
    CHECK_THAT(*error, Catch::Contains("no.such.property"));
}

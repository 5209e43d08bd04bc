// ensure_topics: nothing to do when the topics exist, a bounded error when Kafka is unreachable,
// and no topics with fewer than 3 replicas while a starting cluster shows fewer brokers.
#include <catch2/catch.hpp>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <memory>

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

// A bare mock cluster with no topics, as a starting real cluster that shows only two brokers yet.
TEST_CASE("ensure_topics waits for a third broker unless fewer replicas are allowed", "[topic_admin]") {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    REQUIRE(rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr) == RD_KAFKA_CONF_OK);
    std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> host(
        rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr), &rd_kafka_destroy);
    REQUIRE(host);
    std::unique_ptr<rd_kafka_mock_cluster_t, decltype(&rd_kafka_mock_cluster_destroy)> mock(
        rd_kafka_mock_cluster_new(host.get(), 2), &rd_kafka_mock_cluster_destroy);
    REQUIRE(mock);
    const client_options options{rd_kafka_mock_cluster_bootstraps(mock.get()), {}};

    const auto waiting = ensure_topics(options, 10s, false);
    REQUIRE(waiting.has_value());
    CHECK_THAT(*waiting, Catch::Contains("2 broker(s); waiting for 3"));

    // Allowed, it asks for the topics; librdkafka 2.0.2's mock brokers have no controller to make
    // them, so the answer is that error (a real cluster makes them: the container test checks 3 replicas).
    const auto asked = ensure_topics(options, 3s, true);
    REQUIRE(asked.has_value());
    CHECK_THAT(*asked, Catch::Contains("cannot create topics"));
}

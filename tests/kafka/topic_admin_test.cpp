// ensure_topics: nothing to do when the topics exist, a bounded error when Kafka is unreachable,
// and no topics while a starting cluster shows fewer brokers than the replicas wanted.
#include <catch2/catch.hpp>

#include "kafka/embedded_cluster.hpp"
#include "kafka/topic_admin.hpp"
#include "support/kafka_tools.hpp"

using namespace orderstream::kafka;
using namespace std::chrono_literals;

TEST_CASE("ensure_topics succeeds when both topics already exist", "[topic_admin]") {
    auto cluster = embedded_cluster::start(3);
    const auto check = ensure_topics({cluster->bootstrap_servers(), {}}, 10s);
    CHECK(check.outcome == topics_outcome::ready);
    CHECK(check.detail.empty());
}

TEST_CASE("ensure_topics reports an unreachable cluster within its timeout", "[topic_admin]") {
    const auto started = std::chrono::steady_clock::now();
    const auto check = ensure_topics({"127.0.0.1:1", {}}, 1500ms);
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(check.outcome == topics_outcome::failed);
    CHECK_THAT(check.detail, Catch::Contains("127.0.0.1:1"));
    CHECK(took < 5s);
}

TEST_CASE("ensure_topics reports a bad property", "[topic_admin]") {
    const auto check = ensure_topics({"127.0.0.1:1", {{"no.such.property", "1"}}}, 1500ms);
    CHECK(check.outcome == topics_outcome::failed);
    CHECK_THAT(check.detail, Catch::Contains("no.such.property"));
}

// A bare mock cluster with no topics, as a starting real cluster that shows only two brokers yet.
TEST_CASE("ensure_topics makes no topic while the cluster shows fewer brokers than replicas", "[topic_admin]") {
    const orderstream::testing::mock_brokers two(2);
    const client_options options{two.bootstrap_servers(), {}};

    const auto waiting = ensure_topics(options, 10s, 3);
    CHECK(waiting.outcome == topics_outcome::too_few_brokers);
    CHECK_THAT(waiting.detail, Catch::Contains("2 broker(s); waiting for 3"));
    CHECK_THAT(waiting.detail, Catch::Contains("kafka.topic_replication"));
    CHECK(waiting.brokers.size() == 2);  // what the cluster showed, for the cluster panel

    // With 2 replicas wanted it goes on and asks for the topics (whether the mock brokers can make
    // them is theirs to say: a real cluster does, and the container test checks its 3 replicas).
    const auto asked = ensure_topics(options, 3s, 2);
    CHECK(asked.outcome != topics_outcome::too_few_brokers);
    if (asked.outcome == topics_outcome::failed) CHECK_THAT(asked.detail, Catch::Contains("cannot create topics"));
}

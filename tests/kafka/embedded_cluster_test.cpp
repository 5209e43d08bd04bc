// The embedded cluster: topics as documented, and consumer groups whose committed offsets
// carry over from one client handle to the next.
#include <catch2/catch.hpp>

#include <memory>
#include <set>
#include <stdexcept>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_config.hpp"
#include "kafka/embedded_cluster.hpp"
#include "kafka_test_support.hpp"

using namespace orderstream::kafka;
using namespace std::chrono_literals;

namespace {

client_options options_for(const embedded_cluster& cluster) {
    return client_options{cluster.bootstrap_servers(), embedded_client_defaults()};
}

std::unique_ptr<RdKafka::KafkaConsumer> group_consumer(const embedded_cluster& cluster,
                                                       const std::string& group) {
    std::string error;
    auto conf = make_client_conf(
        options_for(cluster), client_kind::consumer,
        {{"group.id", group}, {"auto.offset.reset", "earliest"}, {"enable.auto.commit", "false"}},
        error);
    REQUIRE(conf);
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(
        RdKafka::KafkaConsumer::create(conf.get(), error));
    REQUIRE(consumer);
    REQUIRE(consumer->subscribe({orders_topic}) == RdKafka::ERR_NO_ERROR);
    return consumer;
}

// Keys of the records consumed until `count` arrived or `timeout` passed.
std::multiset<std::string> consume_keys(RdKafka::KafkaConsumer& consumer, std::size_t count,
                                        std::chrono::milliseconds timeout) {
    std::multiset<std::string> keys;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (keys.size() < count && std::chrono::steady_clock::now() < deadline) {
        std::unique_ptr<RdKafka::Message> msg(consumer.consume(100));
        if (msg->err() == RdKafka::ERR_NO_ERROR && msg->key()) keys.insert(*msg->key());
    }
    return keys;
}

}  // namespace

TEST_CASE("the embedded cluster serves the orders and dead-letter topics", "[embedded_cluster]") {
    auto cluster = embedded_cluster::start(3);
    REQUIRE(cluster->mock() != nullptr);
    CHECK_THAT(cluster->bootstrap_servers(), Catch::Contains("127.0.0.1:"));

    std::string error;
    auto conf = make_client_conf(options_for(*cluster), client_kind::producer, {}, error);
    REQUIRE(conf);
    std::unique_ptr<RdKafka::Producer> client(RdKafka::Producer::create(conf.get(), error));
    REQUIRE(client);
    RdKafka::Metadata* raw = nullptr;
    REQUIRE(client->metadata(true, nullptr, &raw, 5000) == RdKafka::ERR_NO_ERROR);
    std::unique_ptr<RdKafka::Metadata> metadata(raw);
    CHECK(metadata->brokers()->size() == 3);
    std::map<std::string, std::size_t> partitions;
    for (const auto* t : *metadata->topics()) {
        partitions[t->topic()] = t->partitions()->size();
        if (t->topic() == orders_topic) {
            for (const auto* p : *t->partitions()) CHECK(p->replicas()->size() == 3);
        }
    }
    CHECK(partitions[orders_topic] == 3);
    CHECK(partitions[dead_letter_topic] == 3);
}

TEST_CASE("an impossible embedded cluster is refused with a message", "[embedded_cluster]") {
    CHECK_THROWS_WITH(embedded_cluster::start(0), Catch::Contains("broker count"));
}

TEST_CASE("a second consumer in a group resumes from the offsets the first committed",
          "[embedded_cluster]") {
    auto cluster = embedded_cluster::start(3);
    const auto options = options_for(*cluster);
    for (int i = 0; i < 6; ++i) {
        REQUIRE(test::produce_raw(options, orders_topic, -1, "first-" + std::to_string(i),
                                  std::string("x")) == "");
    }
    {
        auto first = group_consumer(*cluster, "resume-group");
        const auto keys = consume_keys(*first, 6, 30s);
        REQUIRE(keys.size() == 6);
        REQUIRE(first->commitSync() == RdKafka::ERR_NO_ERROR);
        REQUIRE(first->close() == RdKafka::ERR_NO_ERROR);
    }
    for (int i = 0; i < 3; ++i) {
        REQUIRE(test::produce_raw(options, orders_topic, -1, "second-" + std::to_string(i),
                                  std::string("y")) == "");
    }
    auto second = group_consumer(*cluster, "resume-group");
    auto keys = consume_keys(*second, 3, 30s);
    // Give any wrongly re-delivered old record a chance to show up.
    const auto extra = consume_keys(*second, 1, 1000ms);
    keys.insert(extra.begin(), extra.end());
    CHECK(keys == std::multiset<std::string>{"second-0", "second-1", "second-2"});
    CHECK(second->close() == RdKafka::ERR_NO_ERROR);
}

TEST_CASE("embedded client defaults shorten the session timeout", "[embedded_cluster]") {
    const auto defaults = embedded_client_defaults();
    CHECK(std::find(defaults.begin(), defaults.end(),
                    std::pair<std::string, std::string>{"session.timeout.ms", "6000"}) !=
          defaults.end());
}

// The consumer command against an embedded cluster: processing, dead letters, resuming from
// committed offsets, and retrying a dead letter the cluster refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "kafka/consumer_command.hpp"
#include "kafka/embedded_cluster.hpp"
#include "kafka/producer_command.hpp"
#include "kafka_test_support.hpp"
#include "orders/order.hpp"

using namespace orderstream::kafka;
using namespace std::chrono_literals;

namespace {

client_options options_for(const embedded_cluster& cluster) {
    return {cluster.bootstrap_servers(), embedded_client_defaults()};
}

std::vector<std::int64_t> produce_orders(const embedded_cluster& cluster, std::int64_t count) {
    producer_options options;
    options.kafka = options_for(cluster);
    options.num_orders = count;
    options.delay_seconds = 0;
    test::command_thread producer([options](const std::atomic<bool>& stop, std::ostream& out) {
        return run_producer(options, stop, out);
    });
    const auto rc = producer.wait(60s);
    INFO(producer.output());
    REQUIRE(rc == std::optional<int>(0));
    auto ids = test::delivered_ids(producer.output());
    REQUIRE(ids.size() == static_cast<std::size_t>(count));
    std::sort(ids.begin(), ids.end());
    return ids;
}

std::string order_json(std::int64_t id) {
    return orderstream::orders::to_json(
        {id, "diana_prince", "2026-11-24T18:12:49.123Z", {"Webcam HD"}, 79.99, "pending"});
}

consumer_options consumer_for(const embedded_cluster& cluster, const std::string& group) {
    consumer_options options;
    options.kafka = options_for(cluster);
    options.group_id = group;
    return options;
}

struct consumer_run {
    bool reached = false;     // processed `count` orders within 40 s
    std::optional<int> exit;  // the consumer's exit code once stopped
    std::string out;
};

// Runs a consumer until it has processed `count` orders, gives anything more `linger` to
// arrive, and stops it.
consumer_run consume_until(const consumer_options& options, std::size_t count,
                           std::chrono::milliseconds linger = 0ms) {
    test::command_thread consumer(
        [options](const std::atomic<bool>& stop, std::ostream& out) { return run_consumer(options, stop, out); });
    consumer_run run;
    run.reached = test::wait_until(
        [&] { return test::processed_ids(consumer.output()).size() >= count; }, 40s);
    std::this_thread::sleep_for(linger);
    run.exit = consumer.stop();
    run.out = consumer.output();
    return run;
}

std::vector<std::int64_t> sorted_processed(const std::string& text) {
    auto ids = test::processed_ids(text);
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace

TEST_CASE("a consumer processes every order once and reports its totals", "[consumer]") {
    auto cluster = embedded_cluster::start(3);
    const auto ids = produce_orders(*cluster, 5);

    const auto run = consume_until(consumer_for(*cluster, "shipping-group"), 5);
    const std::string& out = run.out;
    INFO(out);
    REQUIRE(run.reached);
    CHECK(run.exit == std::optional<int>(0));
    CHECK(sorted_processed(out) == ids);
    CHECK(test::count_lines_starting_with(out, "Message #") == 5);
    CHECK(test::count_lines_starting_with(out, "[shipping] order ") == 5);
    CHECK_THAT(out, Catch::Contains("Consumer shipping-group stopped: processed 5 orders, "
                                    "0 dead letters"));
}

TEST_CASE("poison goes to the dead-letter topic and later orders are still processed",
          "[consumer]") {
    auto cluster = embedded_cluster::start(3);
    const client_options plain{cluster->bootstrap_servers(), {}};
    REQUIRE(test::produce_raw(plain, orders_topic, 0, "bad-1", std::string("this is not json")) ==
            "");
    REQUIRE(test::produce_raw(plain, orders_topic, 0, "gone", std::nullopt) == "");
    REQUIRE(test::produce_raw(plain, orders_topic, 0, "9001", order_json(9001)) == "");
    auto ids = produce_orders(*cluster, 3);
    ids.push_back(9001);
    std::sort(ids.begin(), ids.end());

    const auto run = consume_until(consumer_for(*cluster, "email-group"), 4);
    const std::string& out = run.out;
    INFO(out);
    REQUIRE(run.reached);
    CHECK(run.exit == std::optional<int>(0));
    CHECK(sorted_processed(out) == ids);
    CHECK_THAT(out, Catch::Contains("[email] dead letter at partition 0 offset 0: not_json: "));
    CHECK_THAT(out, Catch::Contains("[email] dead letter at partition 0 offset 1: tombstone: "));
    CHECK_THAT(out, Catch::Contains("Consumer email-group stopped: processed 4 orders, "
                                    "2 dead letters"));

    const auto dead = test::read_records(plain, dead_letter_topic, 2, 20s);
    REQUIRE(dead.size() == 2);
    const auto& bad = dead[0].key == "bad-1" ? dead[0] : dead[1];
    const auto& tombstone = dead[0].key == "bad-1" ? dead[1] : dead[0];
    REQUIRE(bad.key == "bad-1");
    CHECK(bad.value == std::optional<std::string>("this is not json"));
    CHECK(bad.headers.at("dlq.reason") == "not_json");
    CHECK(bad.headers.at("dlq.group") == "email-group");
    CHECK(bad.headers.at("dlq.topic") == "orders");
    CHECK(bad.headers.at("dlq.partition") == "0");
    CHECK(bad.headers.at("dlq.offset") == "0");
    CHECK_FALSE(bad.headers.at("dlq.detail").empty());
    REQUIRE(tombstone.key == "gone");
    CHECK_FALSE(tombstone.value.has_value());
    CHECK(tombstone.headers.at("dlq.reason") == "tombstone");
    CHECK(tombstone.headers.at("dlq.offset") == "1");
}

TEST_CASE("a restarted consumer resumes from its group's committed offset", "[consumer]") {
    auto cluster = embedded_cluster::start(3);
    const auto first_ids = produce_orders(*cluster, 4);
    {
        const auto run = consume_until(consumer_for(*cluster, "analytics-group"), 4);
        REQUIRE(run.exit == std::optional<int>(0));
        INFO(run.out);
        REQUIRE(run.reached);
        REQUIRE(sorted_processed(run.out) == first_ids);
    }
    const auto second_ids = produce_orders(*cluster, 3);
    REQUIRE(second_ids.front() > first_ids.back());

    // The linger gives anything wrongly re-delivered time to arrive too.
    const auto run = consume_until(consumer_for(*cluster, "analytics-group"), 3, 1000ms);
    REQUIRE(run.exit == std::optional<int>(0));
    const std::string& out = run.out;
    INFO(out);
    REQUIRE(run.reached);
    CHECK(sorted_processed(out) == second_ids);
    CHECK(test::count_lines_starting_with(out, "[analytics] order ") == 3);
}

TEST_CASE("an unknown group is warned about and processed as shipping", "[consumer]") {
    auto cluster = embedded_cluster::start(3);
    const auto ids = produce_orders(*cluster, 1);
    const auto run = consume_until(consumer_for(*cluster, "billing-group"), 1);
    REQUIRE(run.exit == std::optional<int>(0));
    const std::string& out = run.out;
    INFO(out);
    REQUIRE(run.reached);
    CHECK_THAT(out, Catch::StartsWith("Warning: unknown consumer group \"billing-group\""));
    CHECK(test::count_lines_starting_with(out, "[shipping] order " + std::to_string(ids[0])) == 1);
}

TEST_CASE("a refused dead letter is retried, and nothing after it is processed before it lands",
          "[consumer]") {
    auto cluster = embedded_cluster::start(3);
    const client_options plain{cluster->bootstrap_servers(), {}};
    REQUIRE(test::produce_raw(plain, orders_topic, 1, "bad", std::string("[1, 2]")) == "");
    REQUIRE(test::produce_raw(plain, orders_topic, 1, "9002", order_json(9002)) == "");
    // The next two produce requests anywhere in the cluster (the consumer's dead-letter writes)
    // are refused.
    rd_kafka_mock_push_request_errors(cluster->mock(), 0 /* Produce */, 2,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);

    auto options = consumer_for(*cluster, "shipping-group");
    options.retry_backoff = 200ms;
    options.dead_letter_timeout = 3000ms;
    const auto run = consume_until(options, 1, 500ms);
    REQUIRE(run.exit == std::optional<int>(0));
    const std::string& out = run.out;
    INFO(out);
    REQUIRE(run.reached);

    const auto last_failure = out.rfind("[shipping] could not dead-letter partition 1 offset 0");
    const auto processed = out.find("[shipping] order 9002 ");
    REQUIRE(last_failure != std::string::npos);
    REQUIRE(processed != std::string::npos);
    CHECK(processed > last_failure);
    CHECK(test::processed_ids(out) == std::vector<std::int64_t>{9002});
    CHECK_THAT(out, Catch::Contains("processed 1 orders, 1 dead letters"));

    const auto dead = test::read_records(plain, dead_letter_topic, 1, 20s);
    REQUIRE(dead.size() >= 1);
    CHECK(dead[0].headers.at("dlq.reason") == "not_object");
}

TEST_CASE("a dead letter on its way holds back only its own partition", "[consumer]") {
    auto cluster = embedded_cluster::start(3);
    const client_options plain{cluster->bootstrap_servers(), {}};
    REQUIRE(test::produce_raw(plain, orders_topic, 1, "bad", std::string("not json")) == "");
    REQUIRE(test::produce_raw(plain, orders_topic, 1, "9201", order_json(9201)) == "");
    REQUIRE(test::produce_raw(plain, orders_topic, 0, "9200", order_json(9200)) == "");
    REQUIRE(test::produce_raw(plain, orders_topic, 2, "9202", order_json(9202)) == "");
    // Every broker answers its next Produce request (the consumer's only one: the dead letter;
    // processing records are off) 4 s late, as a slow or failing dead-letter topic would.
    for (int broker = 1; broker <= 3; ++broker)
        REQUIRE(rd_kafka_mock_broker_push_request_error_rtts(cluster->mock(), broker, 0 /* Produce */, 1,
                                                             RD_KAFKA_RESP_ERR_NO_ERROR, 4000) == RD_KAFKA_RESP_ERR_NO_ERROR);

    auto options = consumer_for(*cluster, "shipping-group");
    options.acks_topic = "";
    const auto run = consume_until(options, 3);
    const std::string& out = run.out;
    INFO(out);
    REQUIRE(run.reached);
    CHECK(run.exit == std::optional<int>(0));
    const auto written = out.find("[shipping] dead letter from partition 1 offset 0 written to orders.dlq");
    REQUIRE(written != std::string::npos);
    // The other partitions went on while the dead letter was on its way; its own partition
    // waited for it.
    CHECK(out.find("[shipping] order 9200 ") < written);
    CHECK(out.find("[shipping] order 9202 ") < written);
    const auto after = out.find("[shipping] order 9201 ");
    REQUIRE(after != std::string::npos);
    CHECK(after > written);
    CHECK(sorted_processed(out) == std::vector<std::int64_t>{9200, 9201, 9202});
    CHECK_THAT(out, Catch::Contains("processed 3 orders, 1 dead letters"));
}

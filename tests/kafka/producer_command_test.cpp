// The producer command against an embedded cluster: deliveries, summaries, id continuation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "kafka/embedded_cluster.hpp"
#include "kafka/producer_command.hpp"
#include "kafka_test_support.hpp"
#include "orders/order_decoder.hpp"

using namespace orderstream::kafka;
using namespace std::chrono_literals;

namespace {

producer_options producer_for(const embedded_cluster& cluster, std::int64_t orders) {
    producer_options options;
    options.kafka = {cluster.bootstrap_servers(), embedded_client_defaults()};
    options.num_orders = orders;
    options.delay_seconds = 0.02;
    return options;
}

// Runs the producer to completion (bounded) and returns its output.
std::string run_to_end(const producer_options& options, int expected_rc = 0) {
    test::command_thread producer([options](const std::atomic<bool>& stop, std::ostream& out) {
        return run_producer(options, stop, out);
    });
    const auto rc = producer.wait(60s);
    INFO(producer.output());
    REQUIRE(rc.has_value());
    CHECK(*rc == expected_rc);
    return producer.output();
}

std::vector<std::int64_t> range(std::int64_t first, std::int64_t count) {
    std::vector<std::int64_t> ids;
    for (std::int64_t i = 0; i < count; ++i) ids.push_back(first + i);
    return ids;
}

std::vector<std::int64_t> sorted(std::vector<std::int64_t> v) {
    std::sort(v.begin(), v.end());
    return v;
}

}  // namespace

TEST_CASE("the producer delivers every order and reports each delivery", "[producer]") {
    auto cluster = embedded_cluster::start(3);
    const std::string out = run_to_end(producer_for(*cluster, 5));
    INFO(out);

    CHECK(sorted(test::delivered_ids(out)) == range(1001, 5));
    CHECK(test::count_lines_starting_with(out, "Order #") == 5);
    CHECK_THAT(out, Catch::Contains("Order #1001 from "));
    CHECK_THAT(out, Catch::Contains("\n  Items: "));
    CHECK_THAT(out, Catch::Contains("\n  Total: $"));
    CHECK_THAT(out, Catch::Contains("Producer stopped: 5 delivered, 0 failed, 0 undelivered"));

    // What is in the topic: keyed by id, decodable, the same ids.
    const auto records =
        test::read_records({cluster->bootstrap_servers(), {}}, orders_topic, 5, 20s);
    REQUIRE(records.size() == 5);
    std::vector<std::int64_t> ids;
    for (const auto& r : records) {
        REQUIRE(r.value);
        const auto decoded = orderstream::orders::decode_order(r.value->data(), r.value->size());
        REQUIRE(decoded.ok());
        CHECK(r.key == std::to_string(decoded.value->order_id));
        ids.push_back(decoded.value->order_id);
    }
    CHECK(sorted(ids) == range(1001, 5));
}

TEST_CASE("a restarted producer continues after the highest order id in the topic", "[producer]") {
    auto cluster = embedded_cluster::start(3);
    run_to_end(producer_for(*cluster, 4));
    // Junk at the end of a partition must not hide the orders before it.
    const client_options plain{cluster->bootstrap_servers(), {}};
    for (std::int32_t p = 0; p < 3; ++p) {
        REQUIRE(test::produce_raw(plain, orders_topic, p, "junk", std::string("not json")) == "");
    }

    const std::string out = run_to_end(producer_for(*cluster, 3));
    INFO(out);
    CHECK(sorted(test::delivered_ids(out)) == range(1005, 3));
    CHECK_THAT(out, Catch::Contains("Order #1005 from "));
}

TEST_CASE("first_order_id skips the lookup", "[producer]") {
    auto cluster = embedded_cluster::start(3);
    auto options = producer_for(*cluster, 2);
    options.first_order_id = 5000;
    const std::string out = run_to_end(options);
    INFO(out);
    CHECK(sorted(test::delivered_ids(out)) == range(5000, 2));
}

TEST_CASE("stop ends an endless producer promptly and flushes what it sent", "[producer]") {
    auto cluster = embedded_cluster::start(3);
    auto options = producer_for(*cluster, 0);
    options.delay_seconds = 30;  // only the stop flag can end the wait
    test::command_thread producer([options](const std::atomic<bool>& stop, std::ostream& out) {
        return run_producer(options, stop, out);
    });
    REQUIRE(
        test::wait_until([&] { return test::delivered_ids(producer.output()).size() == 1; }, 30s));
    const auto stopped_at = std::chrono::steady_clock::now();
    const auto rc = producer.stop(10s);
    INFO(producer.output());
    REQUIRE(rc.has_value());
    CHECK(*rc == 0);
    CHECK(std::chrono::steady_clock::now() - stopped_at < 2s);
    CHECK_THAT(producer.output(),
               Catch::Contains("Producer stopped: 1 delivered, 0 failed, 0 undelivered"));
}

TEST_CASE("without a cluster deliveries fail, are reported, and the exit code says so",
          "[producer]") {
    producer_options options;
    options.kafka = {"127.0.0.1:1", {{"message.timeout.ms", "1000"}}};
    options.num_orders = 1;
    options.delay_seconds = 0;
    options.id_lookup_timeout = 1000ms;  // fails, so ids start at 1001 with a warning
    const std::string out = run_to_end(options, 1);
    INFO(out);
    CHECK(test::count_lines_starting_with(out, "Delivery failed for order 1001: ") == 1);
    CHECK_THAT(out, Catch::Contains("Producer stopped: 0 delivered, 1 failed, 0 undelivered"));
}

TEST_CASE("a bad property is reported and nothing is produced", "[producer]") {
    producer_options options;
    options.kafka = {"127.0.0.1:1", {{"linger.ms", "not-a-number"}}};
    options.first_order_id = 1;
    const std::string out = run_to_end(options, 1);
    CHECK_THAT(out, Catch::Contains("Producer error: invalid Kafka property linger.ms"));
    CHECK(test::count_lines_starting_with(out, "Order #") == 0);
}

// Interoperability with a client that is not ours: kcat's records in the reference order format
// are processed by the departments, and kcat reads the producer's records as reference orders.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "kafka_cluster/kafka_cluster.hpp"
#include "kafka_cluster/pipeline_checks.hpp"
#include "kafka_cluster/pipeline_config.hpp"

using namespace orderstream::testing;
using namespace std::chrono_literals;

namespace {

// Every record of the topic as kcat's JSON envelope ({"partition", "offset", "key", "payload"}).
std::vector<nlohmann::json> read_topic(const kafka_cluster& cluster, const std::string& topic) {
    auto result = run_command({"kcat", "-C", "-b", cluster.bootstrap(), "-t", topic, "-o",
                               "beginning", "-e", "-J", "-q"},
                              60s);
    INFO(result.describe());
    REQUIRE(result.ok());
    std::vector<nlohmann::json> records;
    std::istringstream lines(result.out);
    std::string line;
    while (std::getline(lines, line))
        if (!line.empty()) records.push_back(nlohmann::json::parse(line));
    return records;
}

// Why `payload` is not an order in the reference format, or "" when it is.
std::string reference_order_error(const std::string& key, const std::string& payload) {
    nlohmann::json order;
    try {
        order = nlohmann::json::parse(payload);
    } catch (const nlohmann::json::exception& e) {
        return std::string("not JSON: ") + e.what();
    }
    if (!order.is_object()) return "not an object";
    const std::set<std::string> expected{"order_id", "user", "timestamp", "items", "total", "status"};
    std::set<std::string> fields;
    for (const auto& [name, value] : order.items()) fields.insert(name);
    if (fields != expected) return "fields differ from the reference";
    if (!order["order_id"].is_number_integer()) return "order_id is not an integer";
    if (key != std::to_string(order["order_id"].get<long long>())) return "key is not the order id";
    if (!order["user"].is_string() || order["user"].get<std::string>().empty()) return "bad user";
    static const std::regex iso8601(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$)");
    if (!order["timestamp"].is_string() ||
        !std::regex_match(order["timestamp"].get<std::string>(), iso8601))
        return "timestamp is not ISO-8601";
    const auto& items = order["items"];
    if (!items.is_array() || items.empty()) return "items is not a non-empty array";
    for (const auto& item : items)
        if (!item.is_string() || item.get<std::string>().empty()) return "an item is not a name";
    if (!order["total"].is_number() || order["total"].get<double>() < 0) return "bad total";
    if (order["status"] != "pending") return "status is not pending";
    return "";
}

}  // namespace

TEST_CASE("orders written by kcat are processed by all three departments", "[kcat]") {
    kafka_cluster cluster;
    auto config = cluster.pipeline_on_new_topic("kcat-in");
    daemon_process daemon(config.toml());  // consumers only
    output_collector out;
    out.attach(daemon);

    // Reference-format orders, key = id, one per line for kcat -l with a tab before the value.
    temp_dir dir;
    const auto file = dir.path() / "orders.txt";
    {
        std::ofstream lines(file);
        const char* users[] = {"alice_smith", "bob_jones", "zoë_müller"};
        for (int i = 0; i < 300; ++i) {
            const long id = 500000 + i;
            nlohmann::json order{{"order_id", id},
                                 {"user", users[i % 3]},
                                 {"timestamp", "2026-11-24T18:12:49." + std::to_string(100 + i % 900) + "Z"},
                                 {"items", {"Wireless Mouse", "USB-C Cable"}},
                                 {"total", 42.98 + i},
                                 {"status", "pending"}};
            lines << id << '\t' << order.dump() << '\n';
        }
    }
    auto produced = run_command({"kcat", "-P", "-b", cluster.bootstrap(), "-t", config.topic, "-K",
                                 "\t", "-l", "-X", "enable.idempotence=true", file.string()},
                                60s);
    INFO(produced.describe());
    REQUIRE(produced.ok());

    // What is really in the topic, read back by kcat, is what the departments must process.
    std::set<long long> in_topic;
    for (const auto& record : read_topic(cluster, config.topic)) {
        const std::string key = record["key"].is_string() ? record["key"].get<std::string>() : "";
        INFO(record.dump());
        REQUIRE(reference_order_error(key, record["payload"].get<std::string>()) == "");
        in_topic.insert(std::stoll(key));
    }
    REQUIRE(in_topic.size() == 300);

    const auto all_seen = [&] {
        for (const auto& group : order_ledger::groups())
            for (long long id : in_topic)
                if (!out.ledger().processed(group).count(id)) return false;
        return true;
    };
    const bool done = out.poll_until(all_seen, 90s);
    INFO(out.diagnostics());
    for (const auto& group : order_ledger::groups()) {
        std::size_t missing = 0;
        for (long long id : in_topic) missing += !out.ledger().processed(group).count(id);
        INFO(group << " has not processed " << missing << " of kcat's " << in_topic.size() << " orders");
        CHECK(missing == 0);
        CHECK(out.ledger().dead_letters(group) == 0);
    }
    REQUIRE(done);
}

TEST_CASE("kcat reads every record the producer wrote as a reference order", "[kcat]") {
    kafka_cluster cluster;
    auto config = cluster.pipeline_on_new_topic("kcat-out");
    config.orders = 500;
    config.consumers = false;
    daemon_process daemon(config.toml());
    output_collector out;
    out.attach(daemon);
    const bool done = out.poll_until([&] { return out.ledger().producer_stopped(); }, 90s);
    INFO(out.diagnostics());
    REQUIRE(done);
    const auto& delivered = out.ledger().delivered();
    REQUIRE(!delivered.empty());

    std::map<long long, std::pair<int, std::int64_t>> found;  // id -> partition, offset
    std::size_t bad = 0;
    for (const auto& record : read_topic(cluster, config.topic)) {
        const std::string key = record["key"].is_string() ? record["key"].get<std::string>() : "";
        const std::string error = reference_order_error(key, record["payload"].get<std::string>());
        if (!error.empty()) {
            if (++bad <= 5) WARN("record " << record.dump() << ": " << error);
            continue;
        }
        found[std::stoll(key)] = {record["partition"].get<int>(), record["offset"].get<std::int64_t>()};
    }
    CHECK(bad == 0);
    // Each delivery report names the record kcat finds there, and kcat finds nothing else.
    std::size_t misplaced = 0;
    for (const auto& [id, where] : delivered) {
        auto it = found.find(id);
        if (it == found.end() || it->second != std::pair<int, std::int64_t>(where.partition, where.offset)) {
            if (++misplaced <= 5) WARN("order " << id << " reported at [" << where.partition << "] @" << where.offset);
        }
    }
    CHECK(misplaced == 0);
    CHECK(found.size() == delivered.size());
}

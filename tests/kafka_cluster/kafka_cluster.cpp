// See kafka_cluster.hpp.
#include "kafka_cluster/kafka_cluster.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace orderstream::testing {

kafka_cluster::kafka_cluster() {
    const char* env = std::getenv("ORDERSTREAM_KAFKA_PORTS");
    std::istringstream ports(env && *env ? env : "9092 9093 9094");
    std::string port;
    while (ports >> port) bootstrap_ += (bootstrap_.empty() ? "" : ",") + ("127.0.0.1:" + port);
}

command_result kafka_cluster::script(const std::vector<std::string>& args,
                                     std::chrono::seconds timeout) const {
    std::vector<std::string> argv{ORDERSTREAM_KAFKA_CLUSTER};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run_command(argv, timeout);
    if (!result.ok()) throw std::runtime_error("cluster command failed:\n" + result.describe());
    return result;
}

std::string kafka_cluster::create_topic(const std::string& prefix) {
    static std::atomic<int> counter{0};
    const std::string name = prefix + "-" + std::to_string(::getpid()) + "-" +
                             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count() %
                                            100000000) +
                             "-" + std::to_string(counter++);
    script({"tool", "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", bootstrap_,
            "--create", "--topic", name, "--partitions", "3", "--replication-factor", "3", "--config",
            "min.insync.replicas=2"},
           std::chrono::seconds(90));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (true) {
        auto counts = leader_counts(name);
        int led = 0;
        for (const auto& [node, count] : counts) led += count;
        if (led == 3) return name;
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("topic " + name + " has partitions without a leader after 30 s:\n" +
                                     metadata(name).dump(1));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

nlohmann::json kafka_cluster::metadata(const std::string& topic) const {
    std::vector<std::string> argv{"kcat", "-b", bootstrap_, "-L", "-J", "-m", "5"};
    if (!topic.empty()) argv.insert(argv.end(), {"-t", topic});
    auto result = run_command(argv, std::chrono::seconds(20));
    if (!result.ok()) return nullptr;
    try {
        return nlohmann::json::parse(result.out);
    } catch (const nlohmann::json::exception&) {
        return nullptr;
    }
}

std::map<int, int> kafka_cluster::leader_counts(const std::string& topic) const {
    std::map<int, int> counts;
    const auto meta = metadata(topic);
    if (!meta.is_object()) return counts;
    for (const auto& t : meta.value("topics", nlohmann::json::array())) {
        if (t.value("topic", "") != topic) continue;
        for (const auto& p : t.value("partitions", nlohmann::json::array())) {
            const int leader = p.value("leader", -1);
            if (leader > 0) ++counts[leader];
        }
    }
    return counts;
}

int kafka_cluster::leader_of_most(const std::string& topic) const {
    int best = -1, best_count = 0;
    for (const auto& [node, count] : leader_counts(topic)) {  // ascending node ids
        if (count > best_count) best = node, best_count = count;
    }
    if (best < 0) throw std::runtime_error("no partition of " + topic + " has a leader");
    return best;
}

bool kafka_cluster::fully_replicated(std::string* why) const {
    const auto meta = metadata();
    auto fail = [&](const std::string& reason) {
        if (why) *why = reason;
        return false;
    };
    if (!meta.is_object()) return fail("no broker answered kcat -L");
    if (meta.value("brokers", nlohmann::json::array()).size() != 3)
        return fail("brokers: " + meta.value("brokers", nlohmann::json::array()).dump());
    for (const auto& t : meta.value("topics", nlohmann::json::array())) {
        for (const auto& p : t.value("partitions", nlohmann::json::array())) {
            const auto replicas = p.value("replicas", nlohmann::json::array()).size();
            const auto isrs = p.value("isrs", nlohmann::json::array()).size();
            if (replicas == 0 || isrs != replicas || p.value("leader", -1) <= 0)
                return fail(t.value("topic", "?") + " partition " +
                            std::to_string(p.value("partition", -1)) + ": " + p.dump());
        }
    }
    return true;
}

void kafka_cluster::wait_fully_replicated(std::chrono::seconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string why;
    while (!fully_replicated(&why)) {
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("not every replica is in sync after " +
                                     std::to_string(timeout.count()) + " s: " + why);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

}  // namespace orderstream::testing

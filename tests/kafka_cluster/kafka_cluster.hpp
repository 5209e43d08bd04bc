// The real 3-node cluster of deploy/kafka/cluster, as the CTest fixture started it: its
// address, per-test topics, node failures, and what kcat sees of it.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "kafka_cluster/pipeline_config.hpp"
#include "support/command.hpp"

namespace orderstream::testing {

class kafka_cluster {
public:
    // Ports from $ORDERSTREAM_KAFKA_PORTS (as the script reads them), default 9092 9093 9094.
    kafka_cluster();

    const std::string& bootstrap() const { return bootstrap_; }

    // Creates a topic named `prefix-<unique suffix>` (3 partitions, replication 3, min ISR 2)
    // and waits until every partition has a leader; returns its name. Throws on failure.
    std::string create_topic(const std::string& prefix);
    // The daemon config of a pipeline on a new topic (create_topic) of this cluster.
    pipeline_config pipeline_on_new_topic(const std::string& prefix) {
        pipeline_config config;
        config.topic = create_topic(prefix);
        config.bootstrap_servers = bootstrap();
        return config;
    }

    // `cluster kill|stop|start N`; throws with the script's output on failure.
    void kill(int node) { script({"kill", std::to_string(node)}, std::chrono::seconds(60)); }
    void stop(int node) { script({"stop", std::to_string(node)}, std::chrono::seconds(90)); }
    void start(int node) { script({"start", std::to_string(node)}, std::chrono::seconds(150)); }

    // `kcat -L -J` of all topics; null when no broker answers.
    nlohmann::json metadata(const std::string& topic = "") const;
    // Partition leader counts of `topic` by node id.
    std::map<int, int> leader_counts(const std::string& topic) const;
    // The node leading the most partitions of `topic` (lowest id on ties), as `cluster
    // leader-of-most` does for `orders` only.
    int leader_of_most(const std::string& topic) const;
    // True when every partition of every topic (including __consumer_offsets) lists all its
    // replicas as in sync.
    bool fully_replicated(std::string* why = nullptr) const;
    // Waits for fully_replicated(); throws with the last reason at the deadline.
    void wait_fully_replicated(std::chrono::seconds timeout) const;

    command_result script(const std::vector<std::string>& args, std::chrono::seconds timeout) const;

private:
    std::string bootstrap_;
};

}  // namespace orderstream::testing

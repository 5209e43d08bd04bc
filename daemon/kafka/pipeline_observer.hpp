// Watches the pipeline through Kafka itself, on a thread of its own (librdkafka calls block):
// the orders topic (what was produced), orders.acks (what each group processed), orders.dlq,
// the cluster's metadata and each group's committed offsets and members. It reports to the
// event loop through a callback and keeps no state the loop reads.
//
// At start it replays the newest orders (up to `replay_orders` in all) and the processing
// records from a little before the oldest of them, so a restarted daemon shows the same
// figures. A group's commits are reported only once every record written before them has been
// read: a committed order without a record is then really lost.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "kafka/client_options.hpp"
#include "pipeline/pipeline_events.hpp"

namespace orderstream::kafka {

struct observer_options {
    client_options kafka;
    std::string topic = orders_topic;  // the orders topic the consumers read
    std::vector<std::string> groups;   // whose commits and members are read
    // First make sure the topics exist (retrying while the cluster is unreachable or shows
    // fewer brokers than topic_replication), so the daemon never waits for Kafka before serving.
    bool create_topics = false;
    int topic_replication = 3;  // replicas of the topics it creates (kafka.topic_replication)
    std::size_t replay_orders = 50000;  // orders read back at start, across partitions
    // Read members through DescribeGroups. Off for the embedded mock cluster: it does not
    // answer it, and the members it would name are heap addresses; members then come from
    // the processing records.
    bool describe_groups = true;
};

class pipeline_observer {
public:
    // Runs on the observer thread; the daemon posts the observation to its event loop.
    using sink = std::function<void(pipeline::observation)>;

    pipeline_observer(observer_options options, sink report);
    ~pipeline_observer();  // stops and joins the thread
    pipeline_observer(const pipeline_observer&) = delete;
    pipeline_observer& operator=(const pipeline_observer&) = delete;

    void start();
    // Asks the thread to stop: it ends after its current request (a few seconds at most, the
    // request timeout); the destructor joins it.
    void stop() { stop_ = true; }

    // Records read back from orders.dlq per partition at start.
    static constexpr std::int64_t dead_letter_history = 200;

private:
    void run();

    observer_options options_;
    sink report_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace orderstream::kafka

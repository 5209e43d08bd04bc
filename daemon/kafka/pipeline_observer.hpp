// Watches the pipeline through Kafka itself, on a thread of its own (librdkafka calls block):
// the orders topic (what was produced), orders.acks (what each group processed), orders.dlq,
// the cluster's metadata and each group's committed offsets. It reports to the event loop
// through a callback and keeps no state the loop reads.
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

class pipeline_observer {
public:
    // Runs on the observer thread; the daemon posts the observation to its event loop.
    using sink = std::function<void(pipeline::observation)>;

    // With `create_topics`, it first makes sure the topics exist (retrying while the cluster is
    // unreachable), so the daemon never waits for Kafka before serving.
    pipeline_observer(client_options options, std::vector<std::string> groups, bool create_topics, sink report);
    ~pipeline_observer();  // stops and joins the thread
    pipeline_observer(const pipeline_observer&) = delete;
    pipeline_observer& operator=(const pipeline_observer&) = delete;

    void start();

    // Records read back per partition at start, so a new daemon shows recent history.
    static constexpr std::int64_t history_records = 5000;

private:
    void run();

    client_options options_;
    std::vector<std::string> groups_;
    bool create_topics_;
    sink report_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace orderstream::kafka

// Reads consumer groups through the Admin API on one client handle: committed offsets
// (ListConsumerGroupOffsets) and members with their assignment (DescribeConsumerGroups). The
// calls block up to a timeout, so they belong on the observer thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "pipeline/pipeline_events.hpp"

namespace orderstream::kafka {

class group_reader {
public:
    // `client` is borrowed and must outlive the reader.
    group_reader(rd_kafka_t* client, std::chrono::milliseconds timeout);

    // The group's committed offsets of `partitions` of `topic` (-1 where none); an error
    // message on failure.
    std::optional<std::string> committed(const std::string& group, const std::string& topic,
                                         const std::vector<std::int32_t>& partitions,
                                         std::vector<pipeline::group_partition>& out);
    // Fills `snapshot` (state, members, partitions of `topic` each holds) and sets described;
    // an error message when the cluster does not answer (e.g. the embedded mock cluster).
    std::optional<std::string> describe(const std::string& topic, pipeline::group_snapshot& snapshot);

private:
    struct queue_deleter {
        void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
    };
    struct event_deleter {
        void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
    };
    using event_ptr = std::unique_ptr<rd_kafka_event_t, event_deleter>;
    struct options_deleter {
        void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
    };
    using options_ptr = std::unique_ptr<rd_kafka_AdminOptions_t, options_deleter>;

    using queue_ptr = std::unique_ptr<rd_kafka_queue_t, queue_deleter>;

    options_ptr options(rd_kafka_admin_op_t op) const;
    // A queue for one request: an answer that comes after its timeout can never be taken for
    // the next request's.
    queue_ptr new_queue() const { return queue_ptr(rd_kafka_queue_new(client_)); }
    // The request's result, or nullptr after the timeout.
    event_ptr wait(rd_kafka_queue_t* queue) const;

    rd_kafka_t* client_;
    std::chrono::milliseconds timeout_;
};

}  // namespace orderstream::kafka

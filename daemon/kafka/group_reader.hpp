// Reads consumer groups the way consumers themselves do, not through the Admin API: committed
// offsets with OffsetFetch on a consumer handle of the group's own (never subscribed, so never
// a member), and members with their assignments through DescribeGroups. librdkafka's
// coordinator-targeted Admin requests (ListConsumerGroupOffsets, DescribeConsumerGroups) can
// abort the whole process when the coordinator's broker dies mid-request ("eonce->refcnt > 0"
// in 2.0.2, still open upstream as of librdkafka PR #5397); a monitor must survive exactly that.
// The calls block up to a timeout, so they belong on the observer thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "pipeline/pipeline_events.hpp"

namespace orderstream::kafka {

class group_reader {
public:
    // Makes a consumer handle with group.id `group` that never subscribes; nullptr and `error`
    // on failure.
    using client_factory =
        std::function<std::unique_ptr<RdKafka::KafkaConsumer>(const std::string& group, std::string& error)>;

    group_reader(client_factory make_client, std::chrono::milliseconds timeout);
    ~group_reader();

    // The group's committed offsets of `partitions` of `topic` (-1 where none); an error
    // message on failure.
    std::optional<std::string> committed(const std::string& group, const std::string& topic,
                                         const std::vector<std::int32_t>& partitions,
                                         std::vector<pipeline::group_partition>& out);
    // Fills `snapshot` (state, members, partitions of `topic` each holds) and sets described;
    // an error message when the cluster does not answer (e.g. the embedded mock cluster).
    std::optional<std::string> describe(const std::string& topic, pipeline::group_snapshot& snapshot);
    // Drops the group's handle, so the next request makes a new one with a fresh view of the
    // cluster.
    void forget(const std::string& group);

private:
    RdKafka::KafkaConsumer* client(const std::string& group, std::string& error);

    client_factory make_client_;
    std::chrono::milliseconds timeout_;
    std::map<std::string, std::unique_ptr<RdKafka::KafkaConsumer>> clients_;
};

}  // namespace orderstream::kafka

// Moves a consumer group's committed offsets, as `kafka-consumer-groups --reset-offsets` does,
// through a consumer handle of the group's own that never subscribes (so never a member): it
// reads the partitions, their ranges and the committed offsets, works out the new ones, and
// commits them. The broker refuses such a commit while the group has members, which is exactly
// the safety wanted: a reset under a live consumer would be overwritten by its next commit.
// Blocking, bounded by a timeout: run it on a worker thread.
#pragma once

#include <chrono>
#include <string>

#include "kafka/client_options.hpp"
#include "pipeline/operator_requests.hpp"

namespace orderstream::kafka {

// Where a committed reset leaves its marker (kafka/processing_record): the acks topic, and the
// reset's id. An empty topic: no marker.
struct reset_marker {
    std::string acks_topic;
    std::string id;
    // When the coordinator refuses a commit from outside the group, join the group and commit
    // as its only member. Only for librdkafka's mock cluster, which refuses even for an empty
    // group: a real coordinator refuses only while the group has members, and joining would
    // make those rebalance for nothing.
    bool join_if_refused = false;
};

// Plans the reset of `group` on `topic` (result.moves, outcome planned), and unless
// `request.dry_run` commits it (outcome done) and writes its marker. Offsets asked for outside
// a partition's range, or for a partition that does not exist, are invalid and nothing is
// committed. A marker that cannot be written leaves the reset done, and says so in the message.
pipeline::reset_result reset_offsets(const client_options& options, const std::string& group, const std::string& topic,
                                     const pipeline::reset_request& request, const reset_marker& marker,
                                     std::chrono::milliseconds timeout);

}  // namespace orderstream::kafka

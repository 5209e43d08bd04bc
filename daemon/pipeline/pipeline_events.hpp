// What the Kafka observer thread reports to the event loop: plain values, copied across.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace orderstream::pipeline {

// An order record seen in the orders topic (so acknowledged by the cluster).
struct order_seen {
    std::int64_t order_id = 0;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::int64_t timestamp_ms = 0;  // the record's timestamp
    double total = 0;
    // For searching the orders: bounded (records come from anyone), items joined by ", ".
    std::string user;
    std::string items;
    // A dead letter produced again (its dlq.redriven header): how many times, and where the
    // record it redrives was in this topic (-1 when not said).
    int redriven = 0;
    std::int32_t redrive_of_partition = -1;
    std::int64_t redrive_of_offset = -1;
};

// One order's processing record from orders.acks (a consumer writes them in batches before it
// commits the orders). Because it travels through Kafka, it counts consumers on other hosts too.
struct processing_seen {
    std::int64_t order_id = 0;
    std::string group;
    std::int64_t processed_ms = 0;
    std::string member;  // the group member id (empty from older consumers)
    std::string client;  // the consumer's label, GROUP@HOST#PID (empty from older consumers)
    std::int32_t partition = -1;
    std::int64_t offset = -1;
};

struct dead_letter_seen {
    std::string reason, detail, group;
    std::int32_t source_partition = -1;  // the original record's place in the watched topic
    std::int64_t source_offset = -1;
    std::int64_t timestamp_ms = 0;
    std::string value_preview;  // the first bytes of the raw value, as valid UTF-8
    std::int32_t partition = -1;  // the dead letter's own place in the dead-letter topic
    std::int64_t offset = -1;
    int redriven_before = 0;  // its record had been redriven that often already (dlq.redriven)
};

// A group's committed offset of one partition moved by an operator: from before, to after.
struct offset_move {
    std::int32_t partition = 0;
    std::int64_t from = -1, to = -1;  // -1: nothing committed
};

// An operator's reset of a group's offsets, as its marker in orders.acks says (so a restarted
// daemon knows which records were replays). `id` tells one reset from another.
struct offsets_reset_seen {
    std::string group, id;
    std::vector<offset_move> moves;
};

struct partition_info {
    std::string topic;
    std::int32_t partition = 0;
    std::int32_t leader = -1;
    std::vector<std::int32_t> replicas, isrs;
};

struct cluster_snapshot {
    bool reachable = false;
    std::string error;    // when unreachable
    std::string waiting;  // when it answers but the pipeline cannot start yet: why (too few brokers)
    std::vector<std::pair<std::int32_t, std::string>> brokers;  // id, host:port
    std::vector<partition_info> partitions;
};

struct group_partition {
    std::int32_t partition = 0;
    std::int64_t committed = -1;  // -1: nothing committed yet
    std::int64_t end = -1;
};

// A member as the cluster describes its group (DescribeConsumerGroups).
struct group_member {
    std::string member_id, client_id, host;
    std::vector<std::int32_t> partitions;  // of the watched topic
};

struct group_snapshot {
    std::string group;
    std::vector<group_partition> partitions;
    // From the group's description, when the cluster answers it (the embedded mock does not).
    bool described = false;
    std::string state;  // "Stable", "PreparingRebalance", "Empty", ...
    std::vector<group_member> members;
};

struct observation {
    std::vector<order_seen> orders;
    std::vector<processing_seen> processing;
    std::vector<dead_letter_seen> dead_letters;
    std::vector<offsets_reset_seen> resets;
    std::optional<cluster_snapshot> cluster;
    std::optional<std::vector<group_snapshot>> groups;
};

}  // namespace orderstream::pipeline

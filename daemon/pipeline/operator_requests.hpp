// What an operator asks of Kafka through the API (replay a group, redrive dead letters) and
// what came of it: plain values shared by the HTTP layer, which parses and shows them, and the
// Kafka layer, which carries them out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace orderstream::pipeline {

// The outcome of an action; the HTTP layer maps it to a status code.
enum class action_outcome {
    done,       // 200
    planned,    // 200, a dry run: nothing changed
    invalid,    // 422: the request cannot be carried out as asked (nothing changed)
    not_found,  // 404
    conflict,   // 409: members the daemon does not run, or another action in progress
    failed,     // 502: the cluster refused or did not answer
};

struct reset_request {
    enum class target { earliest, latest, timestamp, offsets };
    target to = target::earliest;
    std::int64_t timestamp_ms = 0;                  // for timestamp
    std::map<std::int32_t, std::int64_t> offsets;   // for offsets: partition -> offset
    bool dry_run = false;
};

// One partition's committed offset before and after, and its records' range then.
struct partition_move {
    std::int32_t partition = 0;
    std::int64_t from = -1;  // -1: nothing committed
    std::int64_t to = -1;
    std::int64_t low = 0, high = 0;
};

struct reset_result {
    action_outcome outcome = action_outcome::failed;
    std::string message;
    std::vector<partition_move> moves;
    std::vector<std::string> copies;   // the daemon's consumers stopped and started again
    std::vector<std::string> members;  // members that kept the group busy (for a conflict)

    // Records the group will process again (moved back) and pass over (moved forward).
    std::int64_t replayed() const {
        std::int64_t n = 0;
        for (const auto& m : moves) n += m.from > m.to ? m.from - m.to : 0;
        return n;
    }
    std::int64_t skipped() const {
        std::int64_t n = 0;
        for (const auto& m : moves) n += m.from >= 0 && m.to > m.from ? m.to - m.from : 0;
        return n;
    }
};

// A dead letter by its place in the dead-letter topic.
struct dead_letter_ref {
    std::int32_t partition = 0;
    std::int64_t offset = 0;
};

struct redrive_request {
    std::vector<dead_letter_ref> dead_letters;
    std::string reason;  // instead of a list: every dead letter kept with this reason
    bool again = false;  // redrive even what was redriven before
};

struct redrive_item {
    dead_letter_ref dead_letter;
    std::string outcome;  // "redriven", "skipped" or "failed"
    std::string message;
    std::int32_t source_partition = -1;  // the original record
    std::int64_t source_offset = -1;
    std::int32_t partition = -1;  // where it went now
    std::int64_t offset = -1;
    int count = 0;  // its dlq.redriven
};

struct redrive_result {
    action_outcome outcome = action_outcome::failed;
    std::string message;
    std::string topic;  // where the records went
    std::vector<redrive_item> items;
};

}  // namespace orderstream::pipeline

// Redrives dead letters: reads each one named from the dead-letter topic and produces its
// original key and value again to the topic it came from (its dlq.topic header), with the
// headers dlq.redriven (how many times now) and dlq.original.partition/offset (the record it
// stands for). One original record dead-lettered by several groups goes out once. The producer
// is idempotent (acks=all), and each record's delivery report is the item's outcome.
// Blocking, bounded by a timeout: run it on a worker thread.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <utility>

#include "kafka/client_options.hpp"
#include "pipeline/operator_requests.hpp"

namespace orderstream::kafka {

struct redrive_scope {
    std::string dead_letter_topic;
    std::string topic;  // the only topic dead letters are redriven to (a dlq.topic header is anyone's to forge)
    // Original records (partition, offset in `topic`) redriven already: skipped unless asked again.
    std::set<std::pair<std::int32_t, std::int64_t>> redriven;
};

// request.dead_letters must be resolved already (not a reason).
pipeline::redrive_result redrive_dead_letters(const client_options& options, const redrive_scope& scope,
                                              const pipeline::redrive_request& request,
                                              std::chrono::milliseconds timeout);

}  // namespace orderstream::kafka

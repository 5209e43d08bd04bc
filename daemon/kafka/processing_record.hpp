// Decodes records of orders.acks. Anyone can write to that topic, so every field is checked:
// wrong types, out-of-range numbers and over-long strings drop the entry, never throw.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "pipeline/pipeline_events.hpp"

namespace orderstream::kafka {

// Entries one record may carry; the rest are ignored.
inline constexpr std::size_t max_entries_per_record = 10000;
// Labels and group names longer than this are not ours.
inline constexpr std::size_t max_label_bytes = 255;

// Appends the record's entries about orders of `watched_topic` to `out`; returns how many it
// appended. A batch is {"group","client","topic","acks":[{order_id, group, member, partition,
// offset, processed_ms}, …]}; a single entry with no "acks" (older consumers) counts for the
// topic "orders". `record_ms` stands in for a missing processed_ms.
std::size_t decode_processing_record(std::string_view value, std::string_view watched_topic, std::int64_t record_ms,
                                     std::vector<pipeline::processing_seen>& out);

}  // namespace orderstream::kafka

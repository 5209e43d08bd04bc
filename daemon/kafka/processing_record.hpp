// Decodes records of orders.acks. Anyone can write to that topic, so every field is checked:
// wrong types, out-of-range numbers and over-long strings drop the entry, never throw.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/pipeline_events.hpp"

namespace orderstream::kafka {

// Entries one record may carry; the rest are ignored.
inline constexpr std::size_t max_entries_per_record = 10000;
// Labels and group names longer than this are not ours.
inline constexpr std::size_t max_label_bytes = 255;
// Partitions one reset marker may move; a marker with more is not ours.
inline constexpr std::size_t max_reset_partitions = 1024;

// Appends the record's entries about orders of `watched_topic` to `out`; returns how many it
// appended. A batch is {"group","client","topic","acks":[{order_id, group, member, partition,
// offset, processed_ms}, …]}; a single entry with no "acks" (older consumers) counts for the
// topic "orders". `record_ms` stands in for a missing processed_ms.
// A reset marker ({"group","topic","reset_id","reset":[{partition, from, to}, …]}) goes to
// `resets` instead, when given.
std::size_t decode_processing_record(std::string_view value, std::string_view watched_topic, std::int64_t record_ms,
                                     std::vector<pipeline::processing_seen>& out,
                                     std::vector<pipeline::offsets_reset_seen>* resets = nullptr);

// The marker an operator's reset leaves in orders.acks, among the records of the group it reset.
std::string encode_reset_marker(const pipeline::offsets_reset_seen& reset, std::string_view topic);

}  // namespace orderstream::kafka

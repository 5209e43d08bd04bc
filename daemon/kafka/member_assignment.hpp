// Decodes a consumer group member's assignment as the group coordinator returns it
// (DescribeGroups): the consumer protocol's Assignment, written by whichever member led the
// group, so it is checked byte by byte and never trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace orderstream::kafka {

// The partitions of `topic` in the assignment, or nullopt when the bytes are not a well-formed
// Assignment (version, [topic, [partition]], user data). An empty assignment is an empty list.
std::optional<std::vector<std::int32_t>> assigned_partitions(const void* data, std::size_t size, std::string_view topic);

}  // namespace orderstream::kafka

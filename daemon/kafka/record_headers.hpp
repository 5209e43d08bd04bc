// Reading a record's headers: the dead-letter and redrive headers (dlq.*) that consumers, the
// observer and the redrive all agree on. Headers come from anyone who can write to a topic, so
// every value read is bounded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <librdkafka/rdkafkacpp.h>

namespace orderstream::kafka {

// The last value of header `name`, cut to `max_bytes`; nullopt when absent or null.
std::optional<std::string> header_value(const RdKafka::Message& message, const char* name, std::size_t max_bytes = 1024);
// A header holding a whole number in [0, high]; -1 when absent or not one.
std::int64_t header_number(const RdKafka::Message& message, const char* name, std::int64_t high);

}  // namespace orderstream::kafka

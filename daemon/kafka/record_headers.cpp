// Reading a record's headers; see record_headers.hpp.
#include "kafka/record_headers.hpp"

#include <algorithm>
#include <charconv>

namespace orderstream::kafka {

std::optional<std::string> header_value(const RdKafka::Message& message, const char* name, std::size_t max_bytes) {
    // Message::headers() is not const only because it parses the headers on first use.
    RdKafka::Headers* headers = const_cast<RdKafka::Message&>(message).headers();
    if (!headers) return std::nullopt;
    auto found = headers->get_last(name);
    if (found.err() != RdKafka::ERR_NO_ERROR || !found.value()) return std::nullopt;
    return std::string(static_cast<const char*>(found.value()), std::min(found.value_size(), max_bytes));
}

std::int64_t header_number(const RdKafka::Message& message, const char* name, std::int64_t high) {
    auto text = header_value(message, name, 32);
    if (!text) return -1;
    std::int64_t n = -1;
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), n);
    return error == std::errc() && end == text->data() + text->size() && n >= 0 && n <= high ? n : -1;
}

}  // namespace orderstream::kafka

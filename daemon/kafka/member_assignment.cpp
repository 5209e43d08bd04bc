// See member_assignment.hpp. Kafka's wire format is big-endian: int16 version, int32 topic
// count, then per topic an int16-length string and an int32 count of int32 partitions.
#include "kafka/member_assignment.hpp"

namespace orderstream::kafka {
namespace {

class reader {
public:
    reader(const void* data, std::size_t size) : data_(static_cast<const unsigned char*>(data)), size_(size) {}

    bool integer(int bytes, std::int64_t& out) {
        if (size_ - at_ < static_cast<std::size_t>(bytes)) return false;
        std::uint64_t value = 0;
        for (int i = 0; i < bytes; ++i) value = (value << 8) | data_[at_++];
        const std::uint64_t sign = std::uint64_t{1} << (bytes * 8 - 1);
        out = static_cast<std::int64_t>(value ^ sign) - static_cast<std::int64_t>(sign);
        return true;
    }
    bool text(std::string_view& out) {
        std::int64_t length = 0;
        if (!integer(2, length) || length < 0 || size_ - at_ < static_cast<std::size_t>(length)) return false;
        out = std::string_view(reinterpret_cast<const char*>(data_ + at_), static_cast<std::size_t>(length));
        at_ += static_cast<std::size_t>(length);
        return true;
    }
    // A count of items of at least `item_bytes` each that the remaining bytes can hold.
    bool count(std::size_t item_bytes, std::int64_t& out) {
        return integer(4, out) && out >= 0 && static_cast<std::size_t>(out) <= (size_ - at_) / item_bytes;
    }

private:
    const unsigned char* data_;
    std::size_t size_, at_ = 0;
};

}  // namespace

std::optional<std::vector<std::int32_t>> assigned_partitions(const void* data, std::size_t size, std::string_view topic) {
    std::vector<std::int32_t> partitions;
    if (size == 0) return partitions;  // a member that has no assignment yet
    reader in(data, size);
    std::int64_t version = 0, topics = 0;
    if (!in.integer(2, version) || version < 0 || !in.count(6, topics)) return std::nullopt;
    for (std::int64_t t = 0; t < topics; ++t) {
        std::string_view name;
        std::int64_t count = 0;
        if (!in.text(name) || !in.count(4, count)) return std::nullopt;
        for (std::int64_t p = 0; p < count; ++p) {
            std::int64_t partition = 0;
            in.integer(4, partition);  // cannot fail: count() checked the bytes
            if (partition < 0) return std::nullopt;
            if (name == topic) partitions.push_back(static_cast<std::int32_t>(partition));
        }
    }
    return partitions;  // user data, if any, is not ours to read
}

}  // namespace orderstream::kafka

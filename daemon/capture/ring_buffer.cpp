// A terminal's last N lines; see ring_buffer.hpp.
#include "capture/ring_buffer.hpp"

#include <cstring>
#include <stdexcept>

namespace orderstream::capture {

ring_buffer::ring_buffer(std::size_t capacity) : slots_(capacity) {
    if (capacity == 0) throw std::invalid_argument("ring buffer capacity must be at least 1");
}

void ring_buffer::append(std::uint64_t seq, const char (&timestamp)[9], std::string_view text) {
    std::size_t slot;
    if (size_ < slots_.size()) {
        slot = (head_ + size_) % slots_.size();
        ++size_;
    } else {
        slot = head_;
        head_ = (head_ + 1) % slots_.size();
        ++dropped_;
        last_dropped_seq_ = slots_[slot].seq;
    }
    line_entry& entry = slots_[slot];
    entry.seq = seq;
    std::memcpy(entry.timestamp, timestamp, sizeof entry.timestamp);
    entry.text.assign(text.data(), text.size());
}

void ring_buffer::clear() {
    head_ = 0;
    size_ = 0;
}

std::size_t ring_buffer::first_after(std::uint64_t since) const {
    // Sequence numbers increase along the ring, so binary search.
    std::size_t lo = 0, hi = size_;
    while (lo < hi) {
        std::size_t mid = lo + (hi - lo) / 2;
        if (at(mid).seq <= since)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

}  // namespace orderstream::capture

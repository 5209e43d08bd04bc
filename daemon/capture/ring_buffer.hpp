// A terminal's last N lines, each with a timestamp and a sequence number, oldest dropped first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace orderstream::capture {

struct line_entry {
    std::uint64_t seq = 0;
    char timestamp[9] = {};  // "HH:MM:SS" and a NUL
    std::string text;        // valid UTF-8, no newline
};

// Fixed capacity, allocated once; slots (and their string capacity) are reused as lines rotate,
// so appending in steady state does not allocate.
class ring_buffer {
public:
    explicit ring_buffer(std::size_t capacity);

    // Copies `text` into the oldest slot. `seq` must be greater than any seq appended before.
    void append(std::uint64_t seq, const char (&timestamp)[9], std::string_view text);
    void clear();

    std::size_t size() const { return size_; }
    std::size_t capacity() const { return slots_.size(); }
    // Lines pushed out by newer ones since start (clear() does not count as dropping).
    std::uint64_t dropped() const { return dropped_; }
    // The sequence number of the newest line pushed out (0 if none): a reader that has not seen
    // lines up to it has missed some.
    std::uint64_t last_dropped_seq() const { return last_dropped_seq_; }
    // i = 0 is the oldest line still held.
    const line_entry& at(std::size_t i) const { return slots_[(head_ + i) % slots_.size()]; }
    // Index of the first line with seq > since (size() when none).
    std::size_t first_after(std::uint64_t since) const;

private:
    std::vector<line_entry> slots_;
    std::size_t head_ = 0;  // oldest
    std::size_t size_ = 0;
    std::uint64_t dropped_ = 0;
    std::uint64_t last_dropped_seq_ = 0;
};

}  // namespace orderstream::capture

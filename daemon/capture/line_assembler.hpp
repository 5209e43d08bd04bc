// Turns the byte chunks read from a child's pipe into whole, valid UTF-8 lines.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "text/utf8.hpp"

namespace orderstream::capture {

// Appended to a line cut at max_line_bytes; the rest of that line is discarded.
inline constexpr std::string_view cut_marker = "…[line cut]";


class line_assembler {
public:
    explicit line_assembler(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

    // Calls on_line(std::string_view) for every line the chunk completes. A "\r\n" ending
    // loses its "\r" too. The view is valid only during the call.
    template <typename OnLine>
    void feed(std::string_view chunk, OnLine&& on_line) {
        while (!chunk.empty()) {
            auto newline = chunk.find('\n');
            if (newline == std::string_view::npos) {
                keep(chunk);
                return;
            }
            std::string_view piece = chunk.substr(0, newline);
            chunk.remove_prefix(newline + 1);
            if (partial_.empty() && !cutting_ && piece.size() <= max_line_bytes_) {
                emit(piece, on_line);  // the whole line is in this chunk: no copy
            } else {
                keep(piece);
                emit(partial_, on_line);
                partial_.clear();
                cutting_ = false;
            }
        }
    }

    // The child's pipe closed: a last line without a newline is still a line.
    template <typename OnLine>
    void finish(OnLine&& on_line) {
        if (!partial_.empty() || cutting_) emit(partial_, on_line);
        partial_.clear();
        cutting_ = false;
    }

private:
    void keep(std::string_view piece);

    template <typename OnLine>
    void emit(std::string_view line, OnLine& on_line) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (cutting_) {
            scratch_line_.assign(line);
            scratch_line_.append(cut_marker);
            line = scratch_line_;
        }
        on_line(text::sanitize(line, scratch_utf8_));
    }

    std::size_t max_line_bytes_;
    std::string partial_;
    bool cutting_ = false;  // the current line passed max_line_bytes_; drop the rest of it
    std::string scratch_line_;
    std::string scratch_utf8_;
};

}  // namespace orderstream::capture

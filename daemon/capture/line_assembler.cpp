// Line splitting, cutting and UTF-8 repair for captured output; see line_assembler.hpp.
#include "capture/line_assembler.hpp"

#include <cstdint>

namespace orderstream::capture {

void line_assembler::keep(std::string_view piece) {
    if (cutting_) return;
    std::size_t room = max_line_bytes_ - partial_.size();
    if (piece.size() <= room) {
        partial_.append(piece);
        return;
    }
    // Cut on a character boundary so the kept part stays valid UTF-8.
    std::size_t cut = room;
    while (cut > 0 && (static_cast<std::uint8_t>(piece[cut]) & 0xC0) == 0x80) --cut;
    partial_.append(piece.substr(0, cut));
    cutting_ = true;
}

}  // namespace orderstream::capture

// Every terminal's ring of captured lines; see output_store.hpp.
#include "capture/output_store.hpp"

#include "capture/line_assembler.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>

namespace orderstream::capture {

output_store::output_store(const std::vector<std::string>& terminal_names, std::size_t ring_lines)
    : ring_lines_(ring_lines) {
    terminals_.reserve(terminal_names.size());
    for (const auto& name : terminal_names) terminals_.push_back({name, ring_buffer(ring_lines), 0, 0});
    std::random_device random;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%08x%08x", random(), random());
    instance_ = hex;
}

std::optional<std::size_t> output_store::find(std::string_view terminal_name) const {
    for (std::size_t i = 0; i < terminals_.size(); ++i)
        if (terminals_[i].name == terminal_name) return i;
    return std::nullopt;
}

std::size_t output_store::find_or_add(const std::string& terminal_name) {
    if (auto found = find(terminal_name)) return *found;
    terminals_.push_back({terminal_name, ring_buffer(ring_lines_), 0, 0});
    return terminals_.size() - 1;
}

void output_store::append(std::size_t index, std::string_view line) {
    terminal& t = terminals_[index];
    const auto& hms = now_hms();
    t.lines.append(++last_seq_, hms, line);
    ++t.captured;
    if (log_) log_->write(t.name, hms, line);
    if (listener_) listener_();
}

std::size_t output_store::restore(std::size_t index, const std::string& marker) {
    if (!log_) return 0;
    terminal& t = terminals_[index];
    const auto lines = log_->tail(t.name, t.lines.capacity());
    std::string scratch;
    for (const auto& [timestamp, text] : lines) {
        char hms[9] = {};
        std::memcpy(hms, timestamp.data(), std::min<std::size_t>(timestamp.size(), 8));
        // The file may have been edited or cut by a full disk: only valid UTF-8 goes on.
        t.lines.append(++last_seq_, hms, text::sanitize(text, scratch));
    }
    if (!lines.empty()) append(index, marker);
    return lines.size();
}

void output_store::clear(std::size_t index) {
    terminals_[index].lines.clear();
    ++terminals_[index].clears;
    if (listener_) listener_();
}

void output_store::clear_all() {
    for (auto& t : terminals_) {
        t.lines.clear();
        ++t.clears;
    }
    if (listener_) listener_();
}

// Formatting local time costs a localtime_r call; do it once per second, not once per line.
const char (&output_store::now_hms())[9] {
    std::time_t now = std::time(nullptr);
    if (now != cached_second_) {
        std::tm local{};
        localtime_r(&now, &local);
        // Unsigned, so that gcc knows each field takes two digits and the 9 bytes suffice.
        std::snprintf(cached_hms_, sizeof cached_hms_, "%02u:%02u:%02u", static_cast<unsigned>(local.tm_hour) % 100u,
                      static_cast<unsigned>(local.tm_min) % 100u, static_cast<unsigned>(local.tm_sec) % 100u);
        cached_second_ = now;
    }
    return cached_hms_;
}

}  // namespace orderstream::capture

// Every terminal's ring of captured lines, with one sequence number shared by all terminals.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/log_files.hpp"
#include "capture/ring_buffer.hpp"

namespace orderstream::capture {

struct terminal {
    std::string name;
    ring_buffer lines;
    std::uint64_t captured = 0;  // lines appended since start
    std::uint64_t clears = 0;    // times it was cleared, so readers can tell
};

// Lives on the daemon's event loop thread; not thread-safe by design (no locks on the hot path).
class output_store {
public:
    output_store(const std::vector<std::string>& terminal_names, std::size_t ring_lines);

    std::optional<std::size_t> find(std::string_view terminal_name) const;
    // The terminal's index, added if new (a reloaded config named it). Terminals are never
    // removed, so indexes stay valid and a removed process's output stays readable.
    std::size_t find_or_add(const std::string& terminal_name);
    void append(std::size_t terminal, std::string_view line);
    // Every line appended from now on also goes to its terminal's file (nullptr: none).
    void set_log(log_files* files) { log_ = files; }
    // Fills the terminal's ring from its file (a restarted daemon), then appends `marker` after
    // them; returns how many lines came back.
    std::size_t restore(std::size_t terminal, const std::string& marker);
    void clear(std::size_t terminal);
    void clear_all();

    const std::vector<terminal>& terminals() const { return terminals_; }
    // The sequence number of the newest line appended (0 before the first).
    std::uint64_t last_seq() const { return last_seq_; }
    // Random per store, so per daemon run: sequence numbers from a store with another id (a
    // daemon that restarted) say nothing about this one's lines.
    const std::string& instance() const { return instance_; }
    // Called after every append and clear; it must be cheap (it runs once per captured line).
    void on_change(std::function<void()> listener) { listener_ = std::move(listener); }

private:
    const char (&now_hms())[9];

    std::vector<terminal> terminals_;
    std::size_t ring_lines_;
    std::function<void()> listener_;
    log_files* log_ = nullptr;
    std::uint64_t last_seq_ = 0;
    std::string instance_;
    std::time_t cached_second_ = -1;
    char cached_hms_[9] = {};
};

}  // namespace orderstream::capture

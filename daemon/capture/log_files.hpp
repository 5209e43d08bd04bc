// Each terminal's output on disk: <dir>/<terminal>.log, rotated by size like supervisord's
// logs (<terminal>.log.1 … .N). A thread of its own writes, so capture never waits for the
// disk: past a bounded queue, or when the disk refuses (full), lines are dropped from the file
// (never from the ring) and counted.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace orderstream::capture {

struct log_file_options {
    std::filesystem::path dir;
    std::uint64_t max_bytes = 50ull << 20;        // a file is rotated before it grows past this
    int backups = 10;                             // rotated files kept; 0: the file starts over
    std::size_t max_queued_bytes = 8u << 20;      // lines waiting for the disk, at most
};

class log_files {
public:
    // Creates the directory; throws std::runtime_error saying why when it cannot be written.
    explicit log_files(log_file_options options);
    // Writes what is queued, then stops its thread.
    ~log_files();
    log_files(const log_files&) = delete;
    log_files& operator=(const log_files&) = delete;

    // Queues a line for the terminal's file; never blocks.
    void write(const std::string& terminal, const char (&timestamp)[9], std::string_view text);
    // The last `max_lines` lines of the terminal's current file: timestamp and text each.
    std::vector<std::pair<std::string, std::string>> tail(const std::string& terminal, std::size_t max_lines) const;
    std::filesystem::path path(const std::string& terminal) const { return options_.dir / (terminal + ".log"); }
    const log_file_options& options() const { return options_; }
    // Lines that did not reach their file (queue full, or the disk refused them).
    std::uint64_t dropped() const { return dropped_.load(); }
    // Blocks until every line queued so far is written (tests, shutdown).
    void flush();

private:
    struct entry {
        std::string terminal;
        std::string line;  // "HH:MM:SS text\n"
    };
    struct open_file {
        int fd = -1;
        std::uint64_t size = 0;
    };

    void run();
    void write_out(std::vector<entry>& batch);
    open_file* file_for(const std::string& terminal);
    void rotate(const std::string& terminal, open_file& file);
    // Writes whole lines or none; `lines` are counted as dropped when the disk refuses them.
    void put(open_file& file, const std::string& chunk, std::size_t lines);

    const log_file_options options_;
    std::mutex mutex_;
    std::condition_variable wake_, drained_;
    std::vector<entry> queue_;
    std::size_t queued_bytes_ = 0;
    std::uint64_t queued_total_ = 0, written_total_ = 0;  // lines, for flush()
    bool stop_ = false;
    std::atomic<std::uint64_t> dropped_{0};
    std::map<std::string, open_file> files_;  // the writer thread's only
    std::thread thread_;                      // last: starts once everything above exists
};

}  // namespace orderstream::capture

// Helpers for the Kafka tests: thread-safe output capture, commands on their own thread with
// their own stop flag, bounded waits, and a plain producer/reader to set up and check topics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include "kafka/client_options.hpp"

namespace orderstream::kafka::test {

// An ostream another thread can read while a command writes to it.
class captured_output : public std::streambuf {
public:
    captured_output() : stream_(this) {}
    std::ostream& stream() { return stream_; }
    std::string text() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return text_;
    }

protected:
    int_type overflow(int_type ch) override {
        if (ch != traits_type::eof()) {
            std::lock_guard<std::mutex> lock(mutex_);
            text_.push_back(static_cast<char>(ch));
        }
        return ch;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        std::lock_guard<std::mutex> lock(mutex_);
        text_.append(s, static_cast<std::size_t>(n));
        return n;
    }

private:
    mutable std::mutex mutex_;
    std::string text_;
    std::ostream stream_;
};

// Runs `command(stop, out)` on a thread; stops and joins on destruction so a failed REQUIRE
// does not leave a running thread behind.
class command_thread {
public:
    using command = std::function<int(const std::atomic<bool>&, std::ostream&)>;
    explicit command_thread(command c);
    ~command_thread();
    command_thread(const command_thread&) = delete;
    command_thread& operator=(const command_thread&) = delete;

    std::string output() const { return out_.text(); }
    // Waits (bounded) for the command to return by itself; nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    // Sets the stop flag and joins; returns the exit code, nullopt if it did not end in time.
    std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));

private:
    captured_output out_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> done_{false};
    int rc_ = -1;
    std::thread thread_;
};

// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// Numbers following `prefix` on lines starting with it (after any "[tag] " for "order ").
std::vector<std::int64_t> ids_after(const std::string& text, const std::string& prefix);
// Ids from "Delivered order <id> " lines.
std::vector<std::int64_t> delivered_ids(const std::string& text);
// Ids from "[dept] order <id>" lines.
std::vector<std::int64_t> processed_ids(const std::string& text);
std::size_t count_lines_starting_with(const std::string& text, const std::string& prefix);

struct record {
    std::int32_t partition = -1;
    std::int64_t offset = -1;
    std::string key;
    std::optional<std::string> value;
    std::map<std::string, std::string> headers;
};

// Produces one record with a plain producer and waits for its acknowledgement.
// partition < 0 lets the partitioner choose. Returns the error, empty on success.
std::string produce_raw(const client_options& options, const std::string& topic,
                        std::int32_t partition, const std::string& key,
                        const std::optional<std::string>& value);

// Reads every partition of `topic` from the beginning with an assign-only consumer until
// `count` records arrived or `timeout` passed.
std::vector<record> read_records(const client_options& options, const std::string& topic,
                                 std::size_t count, std::chrono::milliseconds timeout);

}  // namespace orderstream::kafka::test

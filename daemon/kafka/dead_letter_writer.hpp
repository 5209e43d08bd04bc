// Publishes records a consumer cannot process to the dead-letter topic, with headers saying
// why. Asynchronous: send() queues a record and poll() reports each one's outcome from its
// delivery report, so a dead letter on its way holds back only its own partition, never the
// consume loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {

// What became of one dead letter: the original record's place and, if it was not written, why.
struct dead_letter_outcome {
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::optional<std::string> failure;
};

class dead_letter_writer {
public:
    using header_list = std::vector<std::pair<std::string, std::string>>;

    // Returns nullptr with `error` set when the configuration is unusable. A record not
    // acknowledged within `delivery_timeout` is reported as failed.
    static std::unique_ptr<dead_letter_writer> create(const client_options& options,
                                                      std::string topic,
                                                      std::chrono::milliseconds delivery_timeout,
                                                      std::string& error);
    ~dead_letter_writer();

    // Queues a copy of `original`'s key and value (a null value stays null) with `headers`; its
    // outcome comes from poll(). An error message when it cannot even be queued. A record that
    // timed out may still arrive later, so a retry can duplicate it in the dead-letter topic:
    // at-least-once, never lost.
    std::optional<std::string> send(const RdKafka::Message& original, const header_list& headers);
    // Appends the outcome of every record acknowledged or refused since the last call; waits
    // up to `wait` for one when records are on their way.
    void poll(std::vector<dead_letter_outcome>& done, std::chrono::milliseconds wait = std::chrono::milliseconds(0));
    std::size_t in_flight() const { return pending_.size(); }

private:
    struct report {
        std::uint64_t seq;
        RdKafka::ErrorCode err;
        std::string errstr;
    };
    class delivery_tracker : public RdKafka::DeliveryReportCb {
    public:
        void dr_cb(RdKafka::Message& message) override;
        std::vector<report> reports;
    };

    dead_letter_writer(const client_options& options, std::string topic,
                       std::chrono::milliseconds delivery_timeout);
    // (Re)creates producer_; needed again after a fatal idempotence error.
    bool open(std::string& error);
    void take_reports(std::vector<dead_letter_outcome>& done);

    client_options options_;
    std::string topic_;
    std::chrono::milliseconds delivery_timeout_;
    std::uint64_t next_seq_ = 0;
    std::map<std::uint64_t, std::pair<std::int32_t, std::int64_t>> pending_;  // seq -> original partition, offset
    // Declared before producer_ so that it outlives it.
    delivery_tracker tracker_;
    std::unique_ptr<RdKafka::Producer> producer_;
};

}  // namespace orderstream::kafka

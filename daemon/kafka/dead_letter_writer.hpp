// Publishes records a consumer cannot process to the dead-letter topic, with headers saying
// why, and waits for the broker's acknowledgement so the caller knows when it may move past them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {

class dead_letter_writer {
public:
    using header_list = std::vector<std::pair<std::string, std::string>>;

    // Returns nullptr with `error` set when the configuration is unusable.
    static std::unique_ptr<dead_letter_writer> create(const client_options& options,
                                                      std::string topic,
                                                      std::chrono::milliseconds delivery_timeout,
                                                      std::string& error);
    ~dead_letter_writer();

    // Copies the key and value of `original` (a null value stays null) and adds `headers`.
    // Blocks until the record is acknowledged (nullopt) or refused, the delivery timeout passes
    // or `stop` is set (an error message). A record that timed out may still arrive later, so a
    // retry can duplicate it in the dead-letter topic: at-least-once, never lost.
    std::optional<std::string> write(const RdKafka::Message& original, const header_list& headers,
                                     const std::atomic<bool>& stop);

private:
    class delivery_tracker : public RdKafka::DeliveryReportCb {
    public:
        void dr_cb(RdKafka::Message& message) override;

        std::uint64_t last_seq = 0;
        RdKafka::ErrorCode last_err = RdKafka::ERR_NO_ERROR;
        std::string last_errstr;
    };

    dead_letter_writer(const client_options& options, std::string topic,
                       std::chrono::milliseconds delivery_timeout);
    // (Re)creates producer_; needed again after a fatal idempotence error.
    bool open(std::string& error);

    client_options options_;
    std::string topic_;
    std::chrono::milliseconds delivery_timeout_;
    std::uint64_t next_seq_ = 0;
    // Declared before producer_ so that it outlives it.
    delivery_tracker tracker_;
    std::unique_ptr<RdKafka::Producer> producer_;
};

}  // namespace orderstream::kafka

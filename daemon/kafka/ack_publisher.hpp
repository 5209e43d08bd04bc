// Publishes a processing acknowledgement per order to orders.acks: telemetry for the dashboard
// (order traces, lost and duplicate counts), never waited for, so it cannot slow processing.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {

class ack_publisher {
public:
    // nullptr with `error` set when the configuration is unusable.
    static std::unique_ptr<ack_publisher> create(const client_options& options, std::string topic,
                                                 std::string group, std::string& error);
    ~ack_publisher();

    // {"order_id":…,"group":…,"member":…,"partition":…,"offset":…,"processed_ms":…}, keyed by
    // order id. The member id lets the dashboard show which member holds which partition.
    void publish(std::int64_t order_id, std::int32_t partition, std::int64_t offset, const std::string& member);
    // Serves delivery reports; call from the consume loop.
    void poll() { producer_->poll(0); }
    // Bounded: what is not out by then is dropped (the dashboard shows such orders as pending).
    void flush(std::chrono::milliseconds timeout);

    std::uint64_t failed() const { return reports_.failed; }

private:
    struct report_counter : public RdKafka::DeliveryReportCb {
        void dr_cb(RdKafka::Message& message) override {
            if (message.err() != RdKafka::ERR_NO_ERROR) ++failed;
        }
        std::uint64_t failed = 0;
    };

    ack_publisher(std::string topic, std::string group) : topic_(std::move(topic)), group_(std::move(group)) {}

    std::string topic_, group_;
    report_counter reports_;  // declared before producer_ so it outlives it
    std::unique_ptr<RdKafka::Producer> producer_;
};

}  // namespace orderstream::kafka

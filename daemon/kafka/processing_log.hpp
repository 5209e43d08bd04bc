// A consumer's processing records on orders.acks: the dashboard's evidence of which group
// processed which order. Orders are batched (one record per flush) and an order's offset may be
// stored only once the cluster has acknowledged its record, so a committed order always has one.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {

// Where a consumer may move its stored offset to once a batch is written: offset + 1.
struct record_position {
    std::int32_t partition = 0;
    std::int64_t offset = 0;
};

struct processing_log_options {
    std::string topic = acks_topic;  // where the records go
    std::string source_topic;        // the topic the orders came from, named in each record
    std::string group;
    std::string client;  // the consumer's label, GROUP@HOST#PID
    std::chrono::milliseconds flush_interval{50};
    std::size_t max_batch = 500;        // orders per record
    std::size_t max_unwritten = 10000;  // orders processed but not yet acknowledged
};

class processing_log {
public:
    // Called (from poll()) with the positions of a written batch, oldest first, in the order
    // the batches were added.
    using written_fn = std::function<void(const std::vector<record_position>&)>;

    // nullptr with `error` set when the configuration is unusable.
    static std::unique_ptr<processing_log> create(const client_options& kafka, processing_log_options options,
                                                  written_fn on_written, std::string& error);
    ~processing_log();

    // An order processed now by `member`.
    void add(std::int64_t order_id, record_position position, const std::string& member);
    // A position to release with the batch it follows, without a record (a dead letter, or an
    // order skipped by a test fault).
    void add_without_record(record_position position);

    // Sends the open batch when it is due (or `force`), and serves delivery reports.
    void poll(bool force = false);
    // True while too many orders wait for their record: the caller stops consuming meanwhile.
    bool backlogged() const { return unwritten_ >= options_.max_unwritten; }
    // Sends everything and waits up to `timeout` for it to be written; false if some was not.
    bool flush(std::chrono::milliseconds timeout);
    // Set once the idempotent producer hit a fatal error: no record can be written any more, so
    // the consumer should exit and be started afresh by its supervisor.
    std::optional<std::string> fatal() const;

private:
    struct batch {
        std::uint64_t id = 0;
        std::string value;  // empty: nothing to write, only positions to release
        std::vector<record_position> positions;
        std::size_t orders = 0;
        enum class status { open, in_flight, written, failed } state = status::open;
        std::chrono::steady_clock::time_point opened;
    };
    class delivery_reports : public RdKafka::DeliveryReportCb {
    public:
        explicit delivery_reports(processing_log& log) : log_(log) {}
        void dr_cb(RdKafka::Message& message) override;

    private:
        processing_log& log_;
    };

    processing_log(processing_log_options options, written_fn on_written);
    batch& open_batch();
    void send(batch& b);
    void release_written();

    processing_log_options options_;
    written_fn on_written_;
    std::deque<batch> batches_;  // oldest first; only the last may be open
    std::uint64_t next_id_ = 0;
    std::size_t unwritten_ = 0;
    delivery_reports reports_{*this};  // declared before producer_ so it outlives it
    std::unique_ptr<RdKafka::Producer> producer_;
};

}  // namespace orderstream::kafka

// One dead-letter record at a time: produce, then poll until its delivery report arrives.
#include "kafka/dead_letter_writer.hpp"

#include <algorithm>

#include "kafka/client_config.hpp"

namespace orderstream::kafka {

namespace {

using clock = std::chrono::steady_clock;

// Slack on top of message.timeout.ms for the delivery report to reach us.
constexpr std::chrono::milliseconds report_grace{2000};
constexpr int poll_interval_ms = 100;

}  // namespace

void dead_letter_writer::delivery_tracker::dr_cb(RdKafka::Message& message) {
    last_seq = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(message.msg_opaque()));
    last_err = message.err();
    last_errstr = message.errstr();
}

dead_letter_writer::dead_letter_writer(const client_options& options, std::string topic,
                                       std::chrono::milliseconds delivery_timeout)
    : options_(options), topic_(std::move(topic)), delivery_timeout_(delivery_timeout) {}

dead_letter_writer::~dead_letter_writer() {
    // Only a record whose write() gave up can still be queued; give it a moment, it is already
    // counted as not written.
    if (producer_) producer_->flush(static_cast<int>(poll_interval_ms));
}

std::unique_ptr<dead_letter_writer> dead_letter_writer::create(
    const client_options& options, std::string topic, std::chrono::milliseconds delivery_timeout,
    std::string& error) {
    std::unique_ptr<dead_letter_writer> writer(
        new dead_letter_writer(options, std::move(topic), delivery_timeout));
    if (!writer->open(error)) return nullptr;
    return writer;
}

bool dead_letter_writer::open(std::string& error) {
    producer_.reset();
    auto conf =
        make_client_conf(options_, client_kind::producer,
                         {{"enable.idempotence", "true"},
                          {"acks", "all"},
                          {"linger.ms", "0"},
                          // Makes librdkafka give up (and report) within our bound.
                          {"message.timeout.ms", std::to_string(delivery_timeout_.count())}},
                         error);
    if (!conf || !set_callback(*conf, "dr_cb", &tracker_, error)) return false;
    std::string errstr;
    producer_.reset(RdKafka::Producer::create(conf.get(), errstr));
    if (!producer_) {
        error = "cannot create the dead-letter producer: " + errstr;
        return false;
    }
    return true;
}

std::optional<std::string> dead_letter_writer::write(const RdKafka::Message& original,
                                                     const header_list& headers,
                                                     const std::atomic<bool>& stop) {
    std::string error;
    if (!producer_ && !open(error)) return error;

    std::unique_ptr<RdKafka::Headers> record_headers(RdKafka::Headers::create());
    for (const auto& [name, value] : headers) {
        if (const auto err = record_headers->add(name, value); err != RdKafka::ERR_NO_ERROR) {
            return "cannot add header " + name + ": " + RdKafka::err2str(err);
        }
    }

    const std::uint64_t seq = ++next_seq_;
    const auto deadline = clock::now() + delivery_timeout_ + report_grace;
    RdKafka::ErrorCode err;
    for (;;) {
        err =
            producer_->produce(topic_, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                               const_cast<void*>(original.payload()), original.len(),
                               original.key_pointer(), original.key_len(), 0, record_headers.get(),
                               reinterpret_cast<void*>(static_cast<std::uintptr_t>(seq)));
        if (err != RdKafka::ERR__QUEUE_FULL || stop.load() || clock::now() >= deadline) break;
        producer_->poll(poll_interval_ms);
    }
    if (err != RdKafka::ERR_NO_ERROR) {
        return "cannot produce to " + topic_ + ": " + RdKafka::err2str(err);
    }
    record_headers.release();  // produce() took ownership on success

    while (tracker_.last_seq != seq && !stop.load() && clock::now() < deadline) {
        producer_->poll(poll_interval_ms);
    }
    if (tracker_.last_seq != seq) {
        return stop.load() ? "stopped before " + topic_ + " acknowledged the record"
                           : "no acknowledgement from " + topic_ + " within " +
                                 std::to_string((delivery_timeout_ + report_grace).count()) + " ms";
    }
    if (tracker_.last_err != RdKafka::ERR_NO_ERROR) {
        std::string why = topic_ + " did not accept the record: " + tracker_.last_errstr;
        std::string fatal;
        if (producer_->fatal_error(fatal) != RdKafka::ERR_NO_ERROR) {
            // An idempotent producer cannot recover from a fatal error; start afresh next time.
            why += " (fatal: " + fatal + "; the producer will be recreated)";
            producer_.reset();
        }
        return why;
    }
    return std::nullopt;
}

}  // namespace orderstream::kafka

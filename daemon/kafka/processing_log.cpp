// Batched processing records; see processing_log.hpp.
#include "kafka/processing_log.hpp"

#include <nlohmann/json.hpp>

#include "kafka/client_config.hpp"

namespace orderstream::kafka {
namespace {

using clock = std::chrono::steady_clock;

std::string json_string(const std::string& text) {
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

void processing_log::delivery_reports::dr_cb(RdKafka::Message& message) {
    auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(message.msg_opaque()));
    for (auto& b : log_.batches_) {
        if (b.id != id) continue;
        if (message.err() == RdKafka::ERR_NO_ERROR) {
            b.state = batch::status::written;
        } else {
            b.state = batch::status::failed;
        }
        break;
    }
}

processing_log::processing_log(processing_log_options options, written_fn on_written)
    : options_(std::move(options)), on_written_(std::move(on_written)) {}

processing_log::~processing_log() = default;

std::unique_ptr<processing_log> processing_log::create(const client_options& kafka, processing_log_options options,
                                                       written_fn on_written, std::string& error) {
    std::unique_ptr<processing_log> log(new processing_log(std::move(options), std::move(on_written)));
    // Idempotent: a retried batch is written once, and batches of one consumer (one key, so one
    // partition) stay in order.
    auto conf = make_client_conf(kafka, client_kind::producer,
                                 {{"enable.idempotence", "true"},
                                  {"acks", "all"},
                                  {"linger.ms", "0"},
                                  // Never time a batch out: librdkafka's own idempotent retries
                                  // write it once, where a resend of ours could write it twice
                                  // (false duplicates). Only a fatal error fails it.
                                  {"message.timeout.ms", "0"},
                                  {"client.id", log->options_.client + "/records"}},
                                 error);
    if (!conf || !set_callback(*conf, "dr_cb", &log->reports_, error)) return nullptr;
    std::string errstr;
    log->producer_.reset(RdKafka::Producer::create(conf.get(), errstr));
    if (!log->producer_) {
        error = "cannot create the processing-record producer: " + errstr;
        return nullptr;
    }
    return log;
}

processing_log::batch& processing_log::open_batch() {
    if (batches_.empty() || batches_.back().state != batch::status::open) {
        batches_.emplace_back();
        batches_.back().id = ++next_id_;
        batches_.back().opened = clock::now();
    }
    return batches_.back();
}

void processing_log::add(std::int64_t order_id, record_position position, const std::string& member) {
    auto& b = open_batch();
    b.value += b.orders == 0 ? "" : ",";
    b.value += "{\"order_id\":" + std::to_string(order_id) + ",\"group\":" + json_string(options_.group) +
               ",\"member\":" + json_string(member) + ",\"partition\":" + std::to_string(position.partition) +
               ",\"offset\":" + std::to_string(position.offset) + ",\"processed_ms\":" + std::to_string(wall_ms()) + "}";
    b.positions.push_back(position);
    ++b.orders;
    ++unwritten_;
    if (b.orders >= options_.max_batch) send(b);
}

void processing_log::add_without_record(record_position position) { open_batch().positions.push_back(position); }

void processing_log::send(batch& b) {
    if (b.orders == 0) {
        b.state = batch::status::written;
        return;
    }
    // {"group":…,"client":…,"topic":…,"acks":[{"order_id":…,"group":…,"member":…,"partition":…,
    //  "offset":…,"processed_ms":…},…]}: each entry keeps the fields of one order.
    std::string value = "{\"group\":" + json_string(options_.group) + ",\"client\":" + json_string(options_.client) +
                        ",\"topic\":" + json_string(options_.source_topic) + ",\"acks\":[" + b.value + "]}";
    const std::string& key = options_.client;
    auto err = producer_->produce(options_.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                  value.data(), value.size(), key.data(), key.size(), 0,
                                  reinterpret_cast<void*>(static_cast<std::uintptr_t>(b.id)));
    // Queue full or any local refusal: the batch stays failed and is sent again next poll.
    b.state = err == RdKafka::ERR_NO_ERROR ? batch::status::in_flight : batch::status::failed;
}

void processing_log::poll(bool force) {
    if (!batches_.empty()) {
        auto& last = batches_.back();
        if (last.state == batch::status::open && (force || clock::now() - last.opened >= options_.flush_interval))
            send(last);
    }
    producer_->poll(0);
    release_written();
    // Failed batches go out again (in order, since later ones wait behind them for release).
    for (auto& b : batches_)
        if (b.state == batch::status::failed) send(b);
}

std::optional<std::string> processing_log::fatal() const {
    std::string why;
    if (producer_->fatal_error(why) == RdKafka::ERR_NO_ERROR) return std::nullopt;
    return why;
}

void processing_log::release_written() {
    while (!batches_.empty() && batches_.front().state == batch::status::written) {
        auto& b = batches_.front();
        unwritten_ -= b.orders;
        if (on_written_) on_written_(b.positions);
        batches_.pop_front();
    }
}

bool processing_log::flush(std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    poll(true);
    while (!batches_.empty() && clock::now() < deadline) {
        producer_->poll(50);
        poll(true);
    }
    return batches_.empty();
}

}  // namespace orderstream::kafka

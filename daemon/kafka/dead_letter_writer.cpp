// Dead letters through one idempotent producer; outcomes from its delivery reports.
#include "kafka/dead_letter_writer.hpp"

#include "kafka/client_config.hpp"

namespace orderstream::kafka {

void dead_letter_writer::delivery_tracker::dr_cb(RdKafka::Message& message) {
    reports.push_back({static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(message.msg_opaque())), message.err(),
                       message.errstr()});
}

dead_letter_writer::dead_letter_writer(const client_options& options, std::string topic,
                                       std::chrono::milliseconds delivery_timeout)
    : options_(options), topic_(std::move(topic)), delivery_timeout_(delivery_timeout) {}

// A record still on its way is counted as not written (its offset was not stored); it may
// still land, at-least-once.
dead_letter_writer::~dead_letter_writer() = default;

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

std::optional<std::string> dead_letter_writer::send(const RdKafka::Message& original, const header_list& headers) {
    std::string error;
    if (!producer_ && !open(error)) return error;

    std::unique_ptr<RdKafka::Headers> record_headers(RdKafka::Headers::create());
    for (const auto& [name, value] : headers)
        if (const auto err = record_headers->add(name, value); err != RdKafka::ERR_NO_ERROR)
            return "cannot add header " + name + ": " + RdKafka::err2str(err);

    const std::uint64_t seq = ++next_seq_;
    const auto err = producer_->produce(topic_, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                        const_cast<void*>(original.payload()), original.len(), original.key_pointer(),
                                        original.key_len(), 0, record_headers.get(),
                                        reinterpret_cast<void*>(static_cast<std::uintptr_t>(seq)));
    if (err != RdKafka::ERR_NO_ERROR) return "cannot produce to " + topic_ + ": " + RdKafka::err2str(err);
    record_headers.release();  // produce() took ownership on success
    pending_[seq] = {original.partition(), original.offset()};
    return std::nullopt;
}

void dead_letter_writer::poll(std::vector<dead_letter_outcome>& done, std::chrono::milliseconds wait) {
    if (!producer_) return;
    producer_->poll(pending_.empty() ? 0 : static_cast<int>(wait.count()));
    take_reports(done);
    std::string fatal;
    if (producer_->fatal_error(fatal) == RdKafka::ERR_NO_ERROR) return;
    // An idempotent producer cannot recover from a fatal error: every record still on its way
    // fails, and the next send() starts afresh.
    producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    producer_->poll(0);
    take_reports(done);
    producer_.reset();
    for (const auto& [seq, place] : pending_)
        done.push_back({place.first, place.second, topic_ + " producer failed (" + fatal + "); it will be recreated"});
    pending_.clear();
}

void dead_letter_writer::take_reports(std::vector<dead_letter_outcome>& done) {
    for (const auto& r : tracker_.reports) {
        auto found = pending_.find(r.seq);
        if (found == pending_.end()) continue;
        dead_letter_outcome outcome{found->second.first, found->second.second, std::nullopt};
        if (r.err != RdKafka::ERR_NO_ERROR) outcome.failure = topic_ + " did not accept the record: " + r.errstr;
        done.push_back(std::move(outcome));
        pending_.erase(found);
    }
    tracker_.reports.clear();
}

}  // namespace orderstream::kafka

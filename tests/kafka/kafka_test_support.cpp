// Implementation of the Kafka test helpers.
#include "kafka_test_support.hpp"

#include <memory>
#include <sstream>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_config.hpp"

namespace orderstream::kafka::test {

using clock = std::chrono::steady_clock;

command_thread::command_thread(command c)
    : thread_([this, c = std::move(c)] {
          rc_ = c(stop_, out_.stream());
          done_ = true;
      }) {}

command_thread::~command_thread() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

std::optional<int> command_thread::wait(std::chrono::milliseconds timeout) {
    if (!wait_until([this] { return done_.load(); }, timeout)) return std::nullopt;
    thread_.join();
    return rc_;
}

std::optional<int> command_thread::stop(std::chrono::milliseconds timeout) {
    stop_ = true;
    if (!thread_.joinable()) return rc_;
    return wait(timeout);
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    for (;;) {
        if (condition()) return true;
        if (clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::vector<std::int64_t> ids_after(const std::string& text, const std::string& prefix) {
    std::vector<std::int64_t> ids;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.compare(0, prefix.size(), prefix) != 0) continue;
        try {
            ids.push_back(std::stoll(line.substr(prefix.size())));
        } catch (const std::exception&) {
        }
    }
    return ids;
}

std::vector<std::int64_t> delivered_ids(const std::string& text) {
    return ids_after(text, "Delivered order ");
}

std::vector<std::int64_t> processed_ids(const std::string& text) {
    std::vector<std::int64_t> ids;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        const auto at = line.find("] order ");
        if (line.empty() || line[0] != '[' || at == std::string::npos) continue;
        ids.push_back(std::stoll(line.substr(at + 8)));
    }
    return ids;
}

std::size_t count_lines_starting_with(const std::string& text, const std::string& prefix) {
    std::size_t n = 0;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.compare(0, prefix.size(), prefix) == 0) ++n;
    }
    return n;
}

namespace {

class ack_tracker : public RdKafka::DeliveryReportCb {
public:
    void dr_cb(RdKafka::Message& message) override {
        done = true;
        error = message.err() == RdKafka::ERR_NO_ERROR ? "" : message.errstr();
    }
    bool done = false;
    std::string error;
};

}  // namespace

std::string produce_raw(const client_options& options, const std::string& topic,
                        std::int32_t partition, const std::string& key,
                        const std::optional<std::string>& value) {
    ack_tracker tracker;
    std::string error;
    auto conf = make_client_conf(options, client_kind::producer, {{"linger.ms", "0"}}, error);
    if (!conf || !set_callback(*conf, "dr_cb", &tracker, error)) return error;
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    if (!producer) return error;
    const RdKafka::ErrorCode err = producer->produce(
        topic, partition < 0 ? RdKafka::Topic::PARTITION_UA : partition,
        RdKafka::Producer::RK_MSG_COPY, value ? const_cast<char*>(value->data()) : nullptr,
        value ? value->size() : 0, key.data(), key.size(), 0, nullptr);
    if (err != RdKafka::ERR_NO_ERROR) return RdKafka::err2str(err);
    producer->flush(10000);
    if (!tracker.done) return "no delivery report within 10 s";
    return tracker.error;
}

std::vector<record> read_records(const client_options& options, const std::string& topic,
                                 std::size_t count, std::chrono::milliseconds timeout) {
    std::vector<record> records;
    std::string error;
    auto conf =
        make_client_conf(options, client_kind::consumer,
                         {{"group.id", "test-reader"}, {"enable.auto.commit", "false"}}, error);
    if (!conf) return records;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(
        RdKafka::KafkaConsumer::create(conf.get(), error));
    if (!consumer) return records;
    std::vector<std::unique_ptr<RdKafka::TopicPartition>> owned;
    std::vector<RdKafka::TopicPartition*> partitions;
    for (std::int32_t p = 0; p < 3; ++p) {
        owned.emplace_back(
            RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
        partitions.push_back(owned.back().get());
    }
    if (consumer->assign(partitions) != RdKafka::ERR_NO_ERROR) return records;
    const auto deadline = clock::now() + timeout;
    while (records.size() < count && clock::now() < deadline) {
        std::unique_ptr<RdKafka::Message> msg(consumer->consume(100));
        if (msg->err() != RdKafka::ERR_NO_ERROR) continue;
        record r;
        r.partition = msg->partition();
        r.offset = msg->offset();
        if (msg->key()) r.key = *msg->key();
        if (msg->payload()) r.value.emplace(static_cast<const char*>(msg->payload()), msg->len());
        if (const RdKafka::Headers* headers = msg->headers()) {
            for (const auto& h : headers->get_all()) {
                r.headers[h.key()] = h.value() ? std::string(h.value_string(), h.value_size()) : "";
            }
        }
        records.push_back(std::move(r));
    }
    consumer->close();
    return records;
}

}  // namespace orderstream::kafka::test

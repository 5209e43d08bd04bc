// Redriving dead letters; see dead_letter_redrive.hpp.
#include "kafka/dead_letter_redrive.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_config.hpp"
#include "kafka/record_headers.hpp"

namespace orderstream::kafka {
namespace {

using clock = std::chrono::steady_clock;
using pipeline::redrive_item;

// A dead letter as read back: what is needed to send its record again.
struct letter {
    std::optional<std::string> key, value;
    std::string topic;  // dlq.topic
    std::int64_t source_partition = -1, source_offset = -1;
    int redriven = 0;
};

std::optional<std::string> bytes(const void* data, std::size_t size) {
    if (!data) return std::nullopt;
    return std::string(static_cast<const char*>(data), size);
}

class delivery_reports : public RdKafka::DeliveryReportCb {
public:
    void dr_cb(RdKafka::Message& message) override {
        auto index = reinterpret_cast<std::uintptr_t>(message.msg_opaque());
        auto& report = reports[index];
        report.err = message.err();
        report.errstr = message.errstr();
        report.partition = message.partition();
        report.offset = message.offset();
    }
    struct report {
        RdKafka::ErrorCode err = RdKafka::ERR__TIMED_OUT;
        std::string errstr = "no delivery report in time (it may still arrive)";
        std::int32_t partition = -1;
        std::int64_t offset = -1;
    };
    std::map<std::uintptr_t, report> reports;
};

// Reads the record at exactly `ref`; an error message when there is none.
std::optional<std::string> read_letter(RdKafka::KafkaConsumer& consumer, const std::string& topic,
                                       const pipeline::dead_letter_ref& ref, clock::time_point deadline, letter& out) {
    std::vector<RdKafka::TopicPartition*> parts{RdKafka::TopicPartition::create(topic, ref.partition, ref.offset)};
    auto err = consumer.assign(parts);
    RdKafka::TopicPartition::destroy(parts);
    if (err != RdKafka::ERR_NO_ERROR) return "cannot read " + topic + ": " + RdKafka::err2str(err);
    const std::string where = topic + " partition " + std::to_string(ref.partition) + " offset " + std::to_string(ref.offset);
    while (clock::now() < deadline) {
        std::unique_ptr<RdKafka::Message> message(consumer.consume(100));
        if (message->err() == RdKafka::ERR__TIMED_OUT) continue;
        if (message->err() == RdKafka::ERR__PARTITION_EOF) return "no dead letter at " + where + " (the partition ends before it)";
        if (message->err() != RdKafka::ERR_NO_ERROR) return "cannot read " + where + ": " + message->errstr();
        if (message->partition() != ref.partition) continue;
        if (message->offset() != ref.offset) return "no dead letter at " + where + " (deleted by retention?)";
        out.key = bytes(message->key_pointer(), message->key_len());
        out.value = bytes(message->payload(), message->len());
        out.topic = header_value(*message, "dlq.topic", 256).value_or("");
        out.source_partition = header_number(*message, "dlq.partition", 1'000'000);
        out.source_offset = header_number(*message, "dlq.offset", std::numeric_limits<std::int64_t>::max());
        out.redriven = static_cast<int>(std::max<std::int64_t>(0, header_number(*message, "dlq.redriven", 1'000'000)));
        return std::nullopt;
    }
    return "no answer for " + where + " in time";
}

std::unique_ptr<RdKafka::KafkaConsumer> make_reader(const client_options& options, client_events& events,
                                                    std::string& error) {
    auto conf = make_client_conf(options, client_kind::consumer,
                                 {{"enable.auto.commit", "false"},
                                  {"enable.partition.eof", "true"},
                                  {"client.id", "orderstream-redrive"},
                                  {"allow.auto.create.topics", "false"},
                                  // Never subscribes nor commits: the group only satisfies the client.
                                  {"group.id", "orderstream-redrive"}},
                                 error);
    if (!conf || !set_callback(*conf, "event_cb", &events, error)) return nullptr;
    return std::unique_ptr<RdKafka::KafkaConsumer>(RdKafka::KafkaConsumer::create(conf.get(), error));
}

std::unique_ptr<RdKafka::Producer> make_producer(const client_options& options, client_events& events,
                                                 delivery_reports& reports, std::string& error) {
    auto conf = make_client_conf(options, client_kind::producer,
                                 {{"enable.idempotence", "true"}, {"acks", "all"}, {"client.id", "orderstream-redrive"}},
                                 error);
    if (!conf || !set_callback(*conf, "dr_cb", &reports, error) || !set_callback(*conf, "event_cb", &events, error))
        return nullptr;
    return std::unique_ptr<RdKafka::Producer>(RdKafka::Producer::create(conf.get(), error));
}

}  // namespace

pipeline::redrive_result redrive_dead_letters(const client_options& options, const redrive_scope& scope,
                                              const pipeline::redrive_request& request,
                                              std::chrono::milliseconds timeout) {
    pipeline::redrive_result result;
    result.topic = scope.topic;
    const auto deadline = clock::now() + timeout;
    std::string error;
    client_events events;  // librdkafka's log to the daemon's, not to stderr; outlives the clients
    auto reader = make_reader(options, events, error);
    if (!reader) {
        result.message = "cannot make a Kafka client: " + error;
        return result;
    }
    // Read each dead letter; those of one original record go out once.
    std::map<std::pair<std::int64_t, std::int64_t>, letter> originals;
    for (const auto& ref : request.dead_letters) {
        redrive_item item;
        item.dead_letter = ref;
        letter read;
        if (auto failure = read_letter(*reader, scope.dead_letter_topic, ref, deadline, read)) {
            item.outcome = "failed";
            item.message = *failure;
        } else if (read.topic.empty() || read.source_partition < 0 || read.source_offset < 0) {
            item.outcome = "failed";
            item.message = "not a dead letter: it has no dlq.topic, dlq.partition and dlq.offset headers";
        } else if (read.topic != scope.topic) {
            item.outcome = "failed";
            item.message = "its dlq.topic is \"" + read.topic + "\"; dead letters are redriven only to " + scope.topic;
        } else {
            item.source_partition = static_cast<std::int32_t>(read.source_partition);
            item.source_offset = read.source_offset;
            item.count = read.redriven + 1;
            if (!request.again && scope.redriven.count({item.source_partition, item.source_offset})) {
                item.outcome = "skipped";
                item.message = "already redriven; ask again with \"again\": true to send it once more";
            } else {
                originals.try_emplace({read.source_partition, read.source_offset}, std::move(read));
            }
        }
        result.items.push_back(std::move(item));
    }
    reader->close();

    if (!originals.empty()) {
        delivery_reports reports;
        auto producer = make_producer(options, events, reports, error);
        if (!producer) {
            result.message = "cannot make a Kafka producer: " + error;
            return result;
        }
        std::map<std::pair<std::int64_t, std::int64_t>, std::uintptr_t> sent;
        std::map<std::uintptr_t, std::string> refused;
        std::uintptr_t next = 0;
        for (auto& [source, original] : originals) {
            std::unique_ptr<RdKafka::Headers> headers(RdKafka::Headers::create());
            headers->add("dlq.redriven", std::to_string(original.redriven + 1));
            headers->add("dlq.original.partition", std::to_string(source.first));
            headers->add("dlq.original.offset", std::to_string(source.second));
            const auto index = next++;
            auto err = producer->produce(scope.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                         original.value ? original.value->data() : nullptr,
                                         original.value ? original.value->size() : 0,
                                         original.key ? original.key->data() : nullptr, original.key ? original.key->size() : 0,
                                         0, headers.get(), reinterpret_cast<void*>(index));
            if (err == RdKafka::ERR_NO_ERROR)
                headers.release();  // produce() took them
            else
                refused[index] = RdKafka::err2str(err);
            sent[source] = index;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        producer->flush(static_cast<int>(std::max<std::int64_t>(1000, left.count())));
        for (auto& item : result.items) {
            if (!item.outcome.empty()) continue;
            const auto index = sent.at({item.source_partition, item.source_offset});
            if (auto reason = refused.find(index); reason != refused.end()) {
                item.outcome = "failed";
                item.message = "cannot produce to " + scope.topic + ": " + reason->second;
                continue;
            }
            const auto& report = reports.reports[index];
            if (report.err != RdKafka::ERR_NO_ERROR) {
                item.outcome = "failed";
                item.message = scope.topic + " did not accept it: " + report.errstr;
                continue;
            }
            item.outcome = "redriven";
            item.partition = report.partition;
            item.offset = report.offset;
        }
        producer->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
        producer->poll(0);
    }
    std::size_t redriven = 0, failed = 0;
    for (const auto& item : result.items) redriven += item.outcome == "redriven", failed += item.outcome == "failed";
    result.outcome = failed > 0 && redriven == 0 && failed == result.items.size() ? pipeline::action_outcome::failed
                                                                                  : pipeline::action_outcome::done;
    result.message = std::to_string(redriven) + " redriven, " + std::to_string(failed) + " failed, " +
                     std::to_string(result.items.size() - redriven - failed) + " skipped";
    return result;
}

}  // namespace orderstream::kafka

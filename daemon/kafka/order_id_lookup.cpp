// Watermarks, then a tail read of each partition, all under one deadline.
#include "kafka/order_id_lookup.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_config.hpp"
#include "orders/order_decoder.hpp"

namespace orderstream::kafka {

namespace {

using clock = std::chrono::steady_clock;

int remaining_ms(clock::time_point deadline, int cap_ms = 1'000'000) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, cap_ms));
}

struct partition_list {
    std::vector<std::unique_ptr<RdKafka::TopicPartition>> owned;
    std::vector<RdKafka::TopicPartition*> view;

    void add(const std::string& topic, std::int32_t partition, std::int64_t offset) {
        owned.emplace_back(RdKafka::TopicPartition::create(topic, partition, offset));
        view.push_back(owned.back().get());
    }
};

}  // namespace

order_id_lookup_result find_highest_order_id(const client_options& options,
                                             const std::string& topic,
                                             std::chrono::milliseconds budget) {
    order_id_lookup_result result;
    const auto deadline = clock::now() + budget;
    std::string error;

    // group.id is mandatory for a KafkaConsumer even though this one only assigns.
    auto conf = make_client_conf(options, client_kind::consumer,
                                 {{"group.id", "orderstream-order-id-lookup"},
                                  {"enable.auto.commit", "false"},
                                  {"enable.partition.eof", "true"}},
                                 error);
    if (!conf) {
        result.error = error;
        return result;
    }
    std::string errstr;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(
        RdKafka::KafkaConsumer::create(conf.get(), errstr));
    if (!consumer) {
        result.error = "cannot create a Kafka consumer: " + errstr;
        return result;
    }

    RdKafka::Metadata* raw_metadata = nullptr;
    const RdKafka::ErrorCode meta_err =
        consumer->metadata(true, nullptr, &raw_metadata, std::max(remaining_ms(deadline), 1));
    std::unique_ptr<RdKafka::Metadata> metadata(raw_metadata);
    if (meta_err != RdKafka::ERR_NO_ERROR) {
        result.error = "cannot read cluster metadata: " + RdKafka::err2str(meta_err);
        consumer->close();
        return result;
    }
    std::vector<std::int32_t> partitions;
    for (const RdKafka::TopicMetadata* t : *metadata->topics()) {
        if (t->topic() != topic) continue;
        if (t->err() != RdKafka::ERR_NO_ERROR) {
            if (t->err() != RdKafka::ERR_UNKNOWN_TOPIC_OR_PART) {
                result.error = "topic " + topic + ": " + RdKafka::err2str(t->err());
            }
            consumer->close();
            return result;
        }
        for (const RdKafka::PartitionMetadata* p : *t->partitions()) partitions.push_back(p->id());
    }

    partition_list assignment;
    std::map<std::int32_t, std::int64_t> last_offset;  // partitions still to read, and their end
    for (const std::int32_t p : partitions) {
        std::int64_t low = 0, high = 0;
        const RdKafka::ErrorCode err = consumer->query_watermark_offsets(
            topic, p, &low, &high, std::max(remaining_ms(deadline), 1));
        if (err != RdKafka::ERR_NO_ERROR) {
            result.error = "cannot read the end offsets of " + topic + " [" + std::to_string(p) +
                           "]: " + RdKafka::err2str(err);
            consumer->close();
            return result;
        }
        if (high <= low) continue;  // empty partition
        assignment.add(topic, p, std::max(low, high - order_id_lookup_tail));
        last_offset[p] = high - 1;
    }
    if (last_offset.empty()) {
        consumer->close();
        return result;
    }
    if (const RdKafka::ErrorCode err = consumer->assign(assignment.view);
        err != RdKafka::ERR_NO_ERROR) {
        result.error = "cannot assign partitions of " + topic + ": " + RdKafka::err2str(err);
        consumer->close();
        return result;
    }

    std::string last_error;
    while (!last_offset.empty() && clock::now() < deadline) {
        std::unique_ptr<RdKafka::Message> msg(consumer->consume(remaining_ms(deadline, 100)));
        switch (msg->err()) {
            case RdKafka::ERR_NO_ERROR: {
                const auto decoded = orders::decode_order(msg->payload(), msg->len());
                if (decoded.ok()) {
                    result.highest_id =
                        std::max(result.highest_id.value_or(decoded.value->order_id),
                                 decoded.value->order_id);
                }
                const auto it = last_offset.find(msg->partition());
                if (it != last_offset.end() && msg->offset() >= it->second) last_offset.erase(it);
                break;
            }
            case RdKafka::ERR__PARTITION_EOF:
                last_offset.erase(msg->partition());
                break;
            case RdKafka::ERR__TIMED_OUT:
                break;
            default:
                last_error = msg->errstr();
                break;
        }
    }
    if (!last_offset.empty()) {
        std::string which;
        for (const auto& [p, offset] : last_offset) {
            which += (which.empty() ? "" : ", ") + std::to_string(p);
        }
        result.error = "timed out reading the end of " + topic + " partition(s) " + which +
                       (last_error.empty() ? "" : " (last error: " + last_error + ")");
    }
    if (const RdKafka::ErrorCode err = consumer->close(); err != RdKafka::ERR_NO_ERROR) {
        // Nothing was committed, so a failed close loses nothing; mention it only if the
        // lookup itself went well.
        if (!result.error) result.error = "closing the lookup consumer: " + RdKafka::err2str(err);
    }
    return result;
}

}  // namespace orderstream::kafka

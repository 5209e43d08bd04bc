// The Kafka observer thread; see pipeline_observer.hpp.
#include "kafka/pipeline_observer.hpp"

#include <memory>
#include <set>

#include <librdkafka/rdkafkacpp.h>
#include <nlohmann/json.hpp>

#include "capture/line_assembler.hpp"
#include "kafka/client_config.hpp"
#include "kafka/topic_admin.hpp"
#include "log/logger.hpp"
#include "orders/order_decoder.hpp"

namespace orderstream::kafka {
namespace {

using clock = std::chrono::steady_clock;
constexpr auto metadata_interval = std::chrono::seconds(2);
constexpr auto report_interval = std::chrono::milliseconds(200);
constexpr int request_timeout_ms = 3000;

std::string header(RdKafka::Message& message, const char* name) {
    RdKafka::Headers* headers = message.headers();
    if (!headers) return "";
    auto found = headers->get_last(name);
    if (found.err() != RdKafka::ERR_NO_ERROR || !found.value()) return "";
    return std::string(static_cast<const char*>(found.value()), found.value_size());
}

// librdkafka's own log and error events go to the "kafka" logger at debug level: a broker that
// is down shows on the dashboard; it should not flood the daemon's log.
class quiet_events : public RdKafka::EventCb {
public:
    void event_cb(RdKafka::Event& event) override {
        if (event.type() == RdKafka::Event::EVENT_ERROR || event.type() == RdKafka::Event::EVENT_LOG)
            log::get("kafka")->debug("observer: {} {}", event.fac(), event.str());
    }
};

quiet_events events;

std::unique_ptr<RdKafka::KafkaConsumer> make_consumer(const client_options& options, const std::string& group,
                                                      std::string& error) {
    property_list defaults{{"enable.auto.commit", "false"},
                           {"enable.partition.eof", "false"},
                           {"client.id", "orderstream-observer"},
                           {"allow.auto.create.topics", "false"}};
    // The C++ consumer needs a group.id even when it only assigns partitions and never commits.
    defaults.emplace_back("group.id", group.empty() ? "orderstream-observer" : group);
    auto conf = make_client_conf(options, client_kind::consumer, defaults, error);
    if (!conf || !set_callback(*conf, "event_cb", &events, error)) return nullptr;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
    return consumer;
}

// Reads the cluster's metadata; on failure `snapshot.reachable` is false with the reason.
pipeline::cluster_snapshot read_cluster(RdKafka::KafkaConsumer& consumer) {
    pipeline::cluster_snapshot snapshot;
    RdKafka::Metadata* raw = nullptr;
    auto err = consumer.metadata(true, nullptr, &raw, request_timeout_ms);
    std::unique_ptr<RdKafka::Metadata> metadata(raw);
    if (err != RdKafka::ERR_NO_ERROR || !metadata) {
        snapshot.error = RdKafka::err2str(err);
        return snapshot;
    }
    snapshot.reachable = true;
    for (const auto* broker : *metadata->brokers())
        snapshot.brokers.emplace_back(broker->id(), broker->host() + ":" + std::to_string(broker->port()));
    for (const auto* topic : *metadata->topics()) {
        if (topic->topic().rfind("__", 0) == 0) continue;  // internal topics
        for (const auto* partition : *topic->partitions()) {
            pipeline::partition_info info;
            info.topic = topic->topic();
            info.partition = partition->id();
            info.leader = partition->leader();
            info.replicas.assign(partition->replicas()->begin(), partition->replicas()->end());
            info.isrs.assign(partition->isrs()->begin(), partition->isrs()->end());
            snapshot.partitions.push_back(std::move(info));
        }
    }
    return snapshot;
}

}  // namespace

pipeline_observer::pipeline_observer(client_options options, std::vector<std::string> groups, bool create_topics,
                                     sink report)
    : options_(std::move(options)), groups_(std::move(groups)), create_topics_(create_topics), report_(std::move(report)) {}

pipeline_observer::~pipeline_observer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void pipeline_observer::start() {
    thread_ = std::thread([this] { run(); });
}

void pipeline_observer::run() {
    auto logger = log::get("kafka");
    while (create_topics_ && !stop_) {
        auto failure = ensure_topics(options_, std::chrono::seconds(5));
        if (!failure) break;
        logger->warn("cannot make sure the topics exist yet ({}); retrying", *failure);
        pipeline::observation unreachable;
        unreachable.cluster = pipeline::cluster_snapshot{false, *failure, {}, {}};
        report_(std::move(unreachable));
        for (int i = 0; i < 50 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::string error;
    auto consumer = make_consumer(options_, "", error);
    if (!consumer) {
        logger->error("pipeline observer cannot start: {}", error);
        return;
    }
    // One handle per group, never subscribed: it only reads the group's committed offsets.
    std::vector<std::unique_ptr<RdKafka::KafkaConsumer>> group_readers;
    for (const auto& group : groups_) {
        auto reader = make_consumer(options_, group, error);
        if (!reader) {
            logger->error("cannot read offsets of {}: {}", group, error);
            return;
        }
        group_readers.push_back(std::move(reader));
    }

    const std::set<std::string> watched{orders_topic, acks_topic, dead_letter_topic};
    std::set<std::pair<std::string, std::int32_t>> assigned;  // topic, partition
    std::vector<std::int32_t> order_partitions;
    pipeline::observation pending;
    auto next_metadata = clock::now();
    auto next_report = clock::now() + report_interval;

    while (!stop_) {
        if (clock::now() >= next_metadata) {
            next_metadata = clock::now() + metadata_interval;
            auto cluster = read_cluster(*consumer);
            // Assign the partitions of watched topics as they appear, starting a little back. A
            // partition whose offsets cannot be read yet (no leader) is tried again next time.
            std::vector<RdKafka::TopicPartition*> added;
            for (const auto& p : cluster.partitions) {
                if (!watched.count(p.topic) || assigned.count({p.topic, p.partition})) continue;
                std::int64_t low = 0, high = 0;
                if (consumer->query_watermark_offsets(p.topic, p.partition, &low, &high, request_timeout_ms) !=
                    RdKafka::ERR_NO_ERROR)
                    continue;
                added.push_back(RdKafka::TopicPartition::create(p.topic, p.partition,
                                                                std::max(low, high - history_records)));
            }
            if (!added.empty()) {
                std::unique_ptr<RdKafka::Error> failure(consumer->incremental_assign(added));
                if (failure) {
                    logger->warn("observer assign failed: {}", failure->str());
                } else {
                    for (const auto* part : added) {
                        assigned.insert({part->topic(), part->partition()});
                        if (part->topic() == orders_topic) order_partitions.push_back(part->partition());
                    }
                }
                RdKafka::TopicPartition::destroy(added);
            }
            if (cluster.reachable && !order_partitions.empty()) {
                std::vector<pipeline::group_snapshot> groups;
                for (std::size_t g = 0; g < groups_.size(); ++g) {
                    std::vector<RdKafka::TopicPartition*> parts;
                    for (auto partition : order_partitions)
                        parts.push_back(RdKafka::TopicPartition::create(orders_topic, partition));
                    pipeline::group_snapshot snapshot{groups_[g], {}};
                    if (group_readers[g]->committed(parts, request_timeout_ms) == RdKafka::ERR_NO_ERROR) {
                        for (auto* part : parts) {
                            std::int64_t low = 0, high = -1;
                            consumer->get_watermark_offsets(orders_topic, part->partition(), &low, &high);
                            if (high < 0)
                                consumer->query_watermark_offsets(orders_topic, part->partition(), &low, &high,
                                                                  request_timeout_ms);
                            snapshot.partitions.push_back({part->partition(), part->offset() >= 0 ? part->offset() : -1, high});
                        }
                        groups.push_back(std::move(snapshot));
                    }
                    RdKafka::TopicPartition::destroy(parts);
                }
                pending.groups = std::move(groups);
            }
            pending.cluster = std::move(cluster);
        }

        std::unique_ptr<RdKafka::Message> message(consumer->consume(100));
        if (message && message->err() == RdKafka::ERR_NO_ERROR) {
            const auto& topic = message->topic_name();
            if (topic == orders_topic) {
                auto decoded = orders::decode_order(message->payload(), message->len());
                if (decoded.ok())
                    pending.orders.push_back({decoded.value->order_id, message->partition(), message->offset(),
                                              message->timestamp().timestamp, decoded.value->total});
            } else if (topic == acks_topic) {
                auto ack = nlohmann::json::parse(static_cast<const char*>(message->payload()),
                                                 static_cast<const char*>(message->payload()) + message->len(), nullptr, false);
                // Anyone can write to the topic: fields of the wrong type are ignored, never thrown.
                auto field = [&](const char* name) { return ack.is_object() ? ack.value(name, nlohmann::json()) : nlohmann::json(); };
                auto order_id = field("order_id"), group = field("group"), processed_ms = field("processed_ms"),
                     member = field("member"), partition = field("partition");
                if (order_id.is_number_integer() && group.is_string() && group.get_ref<const std::string&>().size() <= 255)
                    pending.acks.push_back({order_id.get<std::int64_t>(), group.get<std::string>(),
                                            processed_ms.is_number_integer() ? processed_ms.get<std::int64_t>()
                                                                             : message->timestamp().timestamp,
                                            member.is_string() ? member.get<std::string>().substr(0, 255) : "",
                                            partition.is_number_integer() ? partition.get<std::int32_t>() : -1});
            } else if (topic == dead_letter_topic) {
                std::string scratch;
                std::string_view raw(static_cast<const char*>(message->payload()), message->payload() ? message->len() : 0);
                std::string preview(capture::sanitize_utf8(raw.substr(0, 200), scratch));
                auto number = [&](const char* name) {
                    auto text = header(*message, name);
                    try { return text.empty() ? -1LL : std::stoll(text); } catch (...) { return -1LL; }
                };
                pending.dead_letters.push_back({header(*message, "dlq.reason"), header(*message, "dlq.detail"),
                                                header(*message, "dlq.group"), static_cast<std::int32_t>(number("dlq.partition")),
                                                number("dlq.offset"), message->timestamp().timestamp, preview});
            }
        }

        bool due = clock::now() >= next_report || pending.orders.size() + pending.acks.size() >= 2000;
        if (due && (pending.cluster || !pending.orders.empty() || !pending.acks.empty() || !pending.dead_letters.empty())) {
            report_(std::move(pending));
            pending = {};
            next_report = clock::now() + report_interval;
        }
    }
    consumer->close();
    for (auto& reader : group_readers) reader->close();
}

}  // namespace orderstream::kafka

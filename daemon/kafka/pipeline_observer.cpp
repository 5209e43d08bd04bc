// The Kafka observer thread; see pipeline_observer.hpp.
#include "kafka/pipeline_observer.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_config.hpp"
#include "kafka/group_reader.hpp"
#include "kafka/processing_record.hpp"
#include "kafka/record_headers.hpp"
#include "kafka/topic_admin.hpp"
#include "log/logger.hpp"
#include "orders/order.hpp"
#include "orders/order_decoder.hpp"
#include "text/utf8.hpp"

namespace orderstream::kafka {
namespace {

using clock = std::chrono::steady_clock;
constexpr auto metadata_interval = std::chrono::seconds(2);
constexpr auto report_interval = std::chrono::milliseconds(200);
constexpr auto describe_retry = std::chrono::seconds(30);
// Longest wait for the replay's first orders, and for the records behind a commit; past it the
// observer goes on with what it has (e.g. a transactional writer left a gap in orders.acks).
constexpr auto catch_up_limit = std::chrono::seconds(10);
// Records are read from this long before the oldest replayed order (clock skew between hosts).
constexpr std::int64_t record_margin_ms = 60000;
constexpr int request_timeout_ms = 3000;

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A header becomes a label on the page: bounded.
std::string header(RdKafka::Message& message, const char* name) { return header_value(message, name).value_or(""); }

constexpr std::int64_t max_offset = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t max_partition = 1'000'000;

client_events events;

// Reads the cluster's metadata; on failure `snapshot.reachable` is false with the reason.
pipeline::cluster_snapshot read_cluster(RdKafka::KafkaConsumer& consumer) {
    pipeline::cluster_snapshot snapshot;
    RdKafka::Metadata* raw = nullptr;
    auto err = consumer.metadata(true, nullptr, &raw, request_timeout_ms);
    std::unique_ptr<RdKafka::Metadata> metadata(raw);
    if (err != RdKafka::ERR_NO_ERROR || !metadata) {
        auto access_error = events.access_error();
        snapshot.error = access_error.empty() ? RdKafka::err2str(err) : access_error;
        return snapshot;
    }
    events.cluster_answered();
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

struct partition_list {
    std::vector<RdKafka::TopicPartition*> parts;
    ~partition_list() { RdKafka::TopicPartition::destroy(parts); }
};

// One run of the observer: its client, what it has assigned, and the replay's progress.
class observer_session {
public:
    observer_session(const observer_options& options, const std::atomic<bool>& stop, pipeline_observer::sink& report)
        : options_(options), stop_(stop), report_(report), logger_(log::get("kafka")) {}

    bool open(std::string& error) {
        consumer_ = make_consumer("orderstream-observer", "orderstream-observer", error);
        groups_.emplace([this](const std::string& group, std::string& failure) {
            return make_consumer("orderstream-observer-" + group, group, failure);
        }, std::chrono::milliseconds(request_timeout_ms));
        return consumer_ != nullptr;
    }

    void run() {
        auto next_metadata = clock::now();
        auto next_report = clock::now() + report_interval;
        while (!stop_) {
            if (clock::now() >= next_metadata) {
                next_metadata = clock::now() + metadata_interval;
                auto cluster = read_cluster(*consumer_);
                if (cluster.reachable) {
                    assign_new_partitions(cluster);
                    read_groups();
                }
                pending_.cluster = std::move(cluster);
            }
            if (!records_started_ && ready_to_read_records()) start_records();
            release_groups();

            std::unique_ptr<RdKafka::Message> message(consumer_->consume(100));
            if (message && message->err() == RdKafka::ERR_NO_ERROR) handle(*message);

            bool due = clock::now() >= next_report || pending_.orders.size() + pending_.processing.size() >= 2000;
            if (due && (pending_.cluster || pending_.groups || !pending_.orders.empty() || !pending_.processing.empty() ||
                        !pending_.dead_letters.empty() || !pending_.resets.empty())) {
                report_(std::move(pending_));
                pending_ = {};
                next_report = clock::now() + report_interval;
            }
        }
        consumer_->close();
        groups_.reset();
    }

private:
    // Never subscribes, so never joins `group`: the observer assigns partitions itself, and a
    // handle of a watched group only reads that group's commits.
    std::unique_ptr<RdKafka::KafkaConsumer> make_consumer(const std::string& client_id, const std::string& group,
                                                          std::string& error) {
        auto conf = make_client_conf(options_.kafka, client_kind::consumer,
                                     {{"enable.auto.commit", "false"},
                                      {"enable.partition.eof", "false"},
                                      {"client.id", client_id},
                                      {"allow.auto.create.topics", "false"},
                                      {"group.id", group}},
                                     error);
        if (!conf || !set_callback(*conf, "event_cb", &events, error)) return nullptr;
        return std::unique_ptr<RdKafka::KafkaConsumer>(RdKafka::KafkaConsumer::create(conf.get(), error));
    }

    std::optional<std::pair<std::int64_t, std::int64_t>> watermarks(const std::string& topic, std::int32_t partition) {
        std::int64_t low = 0, high = 0;
        if (consumer_->query_watermark_offsets(topic, partition, &low, &high, request_timeout_ms) != RdKafka::ERR_NO_ERROR)
            return std::nullopt;
        return std::make_pair(low, high);
    }

    void assign(partition_list& added) {
        if (added.parts.empty()) return;
        std::unique_ptr<RdKafka::Error> failure(consumer_->incremental_assign(added.parts));
        if (failure) {
            logger_->warn("observer assign failed: {}", failure->str());
            return;
        }
        for (const auto* part : added.parts) {
            assigned_.insert({part->topic(), part->partition()});
            if (part->topic() == options_.topic) order_partitions_.push_back(part->partition());
            if (part->topic() == acks_topic) records_next_[part->partition()] = part->offset();
        }
    }

    // Partitions of watched topics as they appear. A partition whose offsets cannot be read yet
    // (no leader) is tried again next time.
    void assign_new_partitions(const pipeline::cluster_snapshot& cluster) {
        std::size_t order_partition_count = 0;
        acks_partitions_.clear();
        for (const auto& p : cluster.partitions) {
            order_partition_count += p.topic == options_.topic;
            if (p.topic == acks_topic) acks_partitions_.push_back(p.partition);
        }
        partition_list added;
        for (const auto& p : cluster.partitions) {
            if (assigned_.count({p.topic, p.partition})) continue;
            std::int64_t history = 0;
            if (p.topic == options_.topic)
                history = static_cast<std::int64_t>(options_.replay_orders / std::max<std::size_t>(1, order_partition_count));
            else if (p.topic == dead_letter_topic)
                history = pipeline_observer::dead_letter_history;
            else if (!(p.topic == acks_topic && records_started_))  // the first ones: start_records()
                continue;
            auto marks = watermarks(p.topic, p.partition);
            if (!marks) continue;
            auto [low, high] = *marks;
            std::int64_t start = p.topic == acks_topic ? low : std::max(low, high - history);
            if (p.topic == options_.topic && start < high) replay_first_[p.partition] = -1;
            added.parts.push_back(RdKafka::TopicPartition::create(p.topic, p.partition, start));
        }
        if (replay_since_ == clock::time_point{} && !added.parts.empty()) replay_since_ = clock::now();
        assign(added);
    }

    // Records can be read once the oldest replayed order of every partition is known.
    bool ready_to_read_records() const {
        if (order_partitions_.empty() || acks_partitions_.empty()) return false;
        bool all_known = std::all_of(replay_first_.begin(), replay_first_.end(), [](const auto& p) { return p.second >= 0; });
        return all_known || clock::now() - replay_since_ > catch_up_limit;
    }

    void start_records() {
        std::int64_t oldest = wall_ms();
        bool all_known = true;
        for (const auto& [partition, ts] : replay_first_) {
            if (ts >= 0) oldest = std::min(oldest, ts);
            all_known = all_known && ts >= 0;
        }
        partition_list wanted;
        if (!all_known) {
            // Some partition's oldest replayed order is unknown: read every record there is
            // rather than count its orders lost for want of their records.
            for (auto partition : acks_partitions_)
                wanted.parts.push_back(RdKafka::TopicPartition::create(acks_topic, partition, RdKafka::Topic::OFFSET_BEGINNING));
            assign(wanted);
            records_started_ = true;
            logger_->info("observer: replaying orders, and every processing record (the oldest replayed order is unknown)");
            return;
        }
        // The ends are read before the times: a record written between the two queries is
        // past the end read first, so starting there never skips it.
        std::map<std::int32_t, std::int64_t> ends;
        for (auto partition : acks_partitions_) {
            auto marks = watermarks(acks_topic, partition);
            if (!marks) return;
            ends[partition] = marks->second;
            wanted.parts.push_back(RdKafka::TopicPartition::create(acks_topic, partition, oldest - record_margin_ms));
        }
        if (consumer_->offsetsForTimes(wanted.parts, request_timeout_ms) != RdKafka::ERR_NO_ERROR) return;
        for (auto* part : wanted.parts) {
            if (part->err() != RdKafka::ERR_NO_ERROR) return;
            if (part->offset() < 0) part->set_offset(ends[part->partition()]);  // nothing written since then
        }
        assign(wanted);
        records_started_ = true;
        logger_->info("observer: replaying {} orders' partitions, processing records since {} ms ago",
                      order_partitions_.size(), wall_ms() - (oldest - record_margin_ms));
    }

    // Commits are read only when the records are flowing and no earlier snapshot waits.
    void read_groups() {
        if (!records_started_ || held_groups_) return;
        std::vector<pipeline::group_snapshot> snapshots;
        bool describe = options_.describe_groups && clock::now() >= next_describe_;
        for (const auto& group : options_.groups) {
            if (stop_) return;  // each request may block for seconds: never delay a shutdown
            pipeline::group_snapshot snapshot{group, {}, false, {}, {}};
            if (auto failure = groups_->committed(group, options_.topic, order_partitions_, snapshot.partitions)) {
                if (failures_[group]++ == 0) logger_->warn("cannot read the commits of {}: {}", group, *failure);
                continue;
            }
            if (failures_[group] > 0) logger_->info("the commits of {} can be read again", group);
            failures_[group] = 0;
            for (auto& p : snapshot.partitions) {
                std::int64_t low = 0, high = -1;
                consumer_->get_watermark_offsets(options_.topic, p.partition, &low, &high);
                if (high < 0)
                    if (auto marks = watermarks(options_.topic, p.partition)) high = marks->second;
                p.end = high;
            }
            if (describe) {
                if (auto failure = groups_->describe(options_.topic, snapshot)) {
                    logger_->debug("cannot describe {} ({}); members come from its records", group, *failure);
                    next_describe_ = clock::now() + describe_retry;
                    describe = false;
                }
            }
            snapshots.push_back(std::move(snapshot));
        }
        // A handle that keeps failing may hold a stale view of the cluster: start afresh.
        for (auto& [group, failures] : failures_)
            if (failures >= 3 && failures % 3 == 0) groups_->forget(group);
        // Every record written before these commits is below these marks.
        required_.clear();
        for (const auto& [partition, next] : records_next_) {
            if (stop_) return;
            auto marks = watermarks(acks_topic, partition);
            if (!marks) return;
            required_[partition] = marks->second;
        }
        held_groups_ = std::move(snapshots);
        held_since_ = clock::now();
    }

    void release_groups() {
        if (!held_groups_) return;
        bool caught_up = std::all_of(required_.begin(), required_.end(),
                                     [&](const auto& p) { return records_next_[p.first] >= p.second; });
        if (!caught_up && clock::now() - held_since_ < catch_up_limit) return;
        if (!caught_up) logger_->debug("observer: reporting commits before all records behind them were read");
        pending_.groups = std::move(*held_groups_);
        held_groups_.reset();
    }

    void handle(RdKafka::Message& message) {
        const auto& topic = message.topic_name();
        const std::string_view value(static_cast<const char*>(message.payload()), message.payload() ? message.len() : 0);
        const std::int64_t timestamp = message.timestamp().timestamp;
        if (topic == options_.topic) {
            if (auto first = replay_first_.find(message.partition()); first != replay_first_.end() && first->second < 0)
                first->second = std::max<std::int64_t>(0, timestamp);
            auto decoded = orders::decode_order(message.payload(), message.len());
            if (!decoded.ok()) return;
            auto& order = *decoded.value;
            pipeline::order_seen seen;
            seen.order_id = order.order_id;
            seen.partition = message.partition();
            seen.offset = message.offset();
            seen.timestamp_ms = timestamp;
            seen.total = order.total;
            // Kept with each order for the search: bounded.
            seen.user = order.user.substr(0, 64);
            seen.items = orders::join_items(order.items).substr(0, 256);
            if (auto redriven = header_number(message, "dlq.redriven", 1'000'000); redriven > 0) {
                seen.redriven = static_cast<int>(redriven);
                seen.redrive_of_partition = static_cast<std::int32_t>(header_number(message, "dlq.original.partition", max_partition));
                seen.redrive_of_offset = header_number(message, "dlq.original.offset", max_offset);
                if (seen.redrive_of_offset < 0) seen.redrive_of_partition = -1;
            }
            pending_.orders.push_back(std::move(seen));
        } else if (topic == acks_topic) {
            records_next_[message.partition()] = message.offset() + 1;
            decode_processing_record(value, options_.topic, timestamp, pending_.processing, &pending_.resets);
        } else if (topic == dead_letter_topic) {
            std::string scratch;
            std::string preview(text::sanitize(value.substr(0, 200), scratch));
            pipeline::dead_letter_seen letter{header(message, "dlq.reason"), header(message, "dlq.detail"),
                                              header(message, "dlq.group"),
                                              static_cast<std::int32_t>(header_number(message, "dlq.partition", max_partition)),
                                              header_number(message, "dlq.offset", max_offset), timestamp, preview};
            letter.partition = message.partition();
            letter.offset = message.offset();
            letter.redriven_before = static_cast<int>(std::max<std::int64_t>(0, header_number(message, "dlq.redriven", 1'000'000)));
            pending_.dead_letters.push_back(std::move(letter));
        }
    }

    const observer_options& options_;
    const std::atomic<bool>& stop_;
    pipeline_observer::sink& report_;
    std::shared_ptr<spdlog::logger> logger_;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
    std::optional<group_reader> groups_;
    std::map<std::string, int> failures_;  // failed reads in a row, by group

    std::set<std::pair<std::string, std::int32_t>> assigned_;  // topic, partition
    std::vector<std::int32_t> order_partitions_, acks_partitions_;
    std::map<std::int32_t, std::int64_t> replay_first_;  // orders partition -> first replayed timestamp (-1: not yet)
    clock::time_point replay_since_;
    bool records_started_ = false;
    std::map<std::int32_t, std::int64_t> records_next_;  // acks partition -> next offset to read
    std::map<std::int32_t, std::int64_t> required_;       // acks partition -> offset the held commits need
    std::optional<std::vector<pipeline::group_snapshot>> held_groups_;
    clock::time_point held_since_;
    clock::time_point next_describe_;
    pipeline::observation pending_;
};

}  // namespace

pipeline_observer::pipeline_observer(observer_options options, sink report)
    : options_(std::move(options)), report_(std::move(report)) {}

pipeline_observer::~pipeline_observer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void pipeline_observer::start() {
    thread_ = std::thread([this] { run(); });
}

void pipeline_observer::run() {
    auto logger = log::get("kafka");
    auto report_failure = [&](const std::string& why) {
        pipeline::observation failed;
        failed.cluster.emplace();
        failed.cluster->error = why;
        report_(std::move(failed));
    };
    // Nothing from Kafka may take the daemon (and its children) down: the view stops instead.
    try {
        std::string last_detail;  // logged when it changes, not every 5 s
        while (options_.create_topics && !stop_) {
            const auto check = ensure_topics(options_.kafka, std::chrono::seconds(5), options_.topic_replication);
            if (check.outcome == topics_outcome::ready) break;
            if (check.detail != last_detail) {
                logger->warn("cannot make sure the topics exist yet ({}); retrying every 5 s", check.detail);
                last_detail = check.detail;
            }
            if (check.outcome == topics_outcome::too_few_brokers) {
                // The cluster answers: it is waited for, not unreachable.
                pipeline::observation waiting;
                waiting.cluster.emplace();
                waiting.cluster->reachable = true;
                waiting.cluster->waiting = check.detail;
                waiting.cluster->brokers = check.brokers;
                report_(std::move(waiting));
            } else {
                report_failure(check.detail);
            }
            for (int i = 0; i < 50 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        observer_session session(options_, stop_, report_);
        std::string error;
        if (!session.open(error)) {
            logger->error("pipeline observer cannot start: {}", error);
            report_failure("the observer cannot start: " + error);
            return;
        }
        session.run();
    } catch (const std::exception& e) {
        logger->error("pipeline observer stopped: {}", e.what());
        report_failure(std::string("the observer stopped: ") + e.what());
    }
}

}  // namespace orderstream::kafka

// Resetting a group's committed offsets; see offset_reset.hpp.
#include "kafka/offset_reset.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_config.hpp"
#include "kafka/processing_record.hpp"

namespace orderstream::kafka {
namespace {

using pipeline::action_outcome;
using pipeline::reset_request;
using pipeline::reset_result;

struct partitions_deleter {
    void operator()(std::vector<RdKafka::TopicPartition*>* parts) const {
        RdKafka::TopicPartition::destroy(*parts);
        delete parts;
    }
};
using partition_list = std::unique_ptr<std::vector<RdKafka::TopicPartition*>, partitions_deleter>;

reset_result failure(action_outcome outcome, std::string message) {
    reset_result result;
    result.outcome = outcome;
    result.message = std::move(message);
    return result;
}

// The broker's word for "this group has members, so you may not commit for it".
bool group_busy(RdKafka::ErrorCode err) {
    return err == RdKafka::ERR_UNKNOWN_MEMBER_ID || err == RdKafka::ERR_ILLEGAL_GENERATION ||
           err == RdKafka::ERR_REBALANCE_IN_PROGRESS;
}

class reset_client {
public:
    reset_client(const client_options& options, const std::string& group, std::chrono::milliseconds timeout,
                 std::string& error)
        : timeout_ms_(static_cast<int>(timeout.count())) {
        auto conf = make_client_conf(options, client_kind::consumer,
                                     {{"enable.auto.commit", "false"},
                                      {"client.id", "orderstream-reset"},
                                      {"allow.auto.create.topics", "false"},
                                      {"group.id", group}},
                                     error);
        if (conf && !set_callback(*conf, "event_cb", &events_, error)) conf.reset();
        if (conf) consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
    }
    ~reset_client() {
        if (consumer_) consumer_->close();
    }
    bool ok() const { return consumer_ != nullptr; }

    // The topic's partition numbers; an error message on failure.
    std::string partitions(const std::string& topic, std::vector<std::int32_t>& out) {
        std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(consumer_.get(), topic, nullptr, scratch_));
        if (!handle) return "cannot open topic " + topic + ": " + scratch_;
        RdKafka::Metadata* raw = nullptr;
        auto err = consumer_->metadata(false, handle.get(), &raw, timeout_ms_);
        std::unique_ptr<RdKafka::Metadata> metadata(raw);
        if (err != RdKafka::ERR_NO_ERROR) return "cannot read the metadata of " + topic + ": " + RdKafka::err2str(err);
        for (const auto* t : *metadata->topics()) {
            if (t->err() != RdKafka::ERR_NO_ERROR) return "topic " + topic + ": " + RdKafka::err2str(t->err());
            for (const auto* p : *t->partitions()) out.push_back(p->id());
        }
        if (out.empty()) return "topic " + topic + " has no partitions";
        return {};
    }

    std::string ranges(const std::string& topic, std::vector<pipeline::partition_move>& moves) {
        for (auto& move : moves)
            if (auto err = consumer_->query_watermark_offsets(topic, move.partition, &move.low, &move.high, timeout_ms_);
                err != RdKafka::ERR_NO_ERROR)
                return "cannot read the range of partition " + std::to_string(move.partition) + ": " + RdKafka::err2str(err);
        return {};
    }

    std::string committed(const std::string& topic, std::vector<pipeline::partition_move>& moves) {
        partition_list parts(new std::vector<RdKafka::TopicPartition*>);
        for (const auto& move : moves) parts->push_back(RdKafka::TopicPartition::create(topic, move.partition));
        if (auto err = consumer_->committed(*parts, timeout_ms_); err != RdKafka::ERR_NO_ERROR)
            return "cannot read the committed offsets: " + RdKafka::err2str(err);
        for (std::size_t i = 0; i < moves.size(); ++i) {
            const auto* p = (*parts)[i];
            if (p->err() != RdKafka::ERR_NO_ERROR) return "cannot read the committed offsets: " + RdKafka::err2str(p->err());
            moves[i].from = p->offset() >= 0 ? p->offset() : -1;
        }
        return {};
    }

    // The first offset at or after `timestamp_ms` in each partition (its end when none).
    std::string offsets_for_time(const std::string& topic, std::int64_t timestamp_ms,
                                 std::vector<pipeline::partition_move>& moves) {
        partition_list parts(new std::vector<RdKafka::TopicPartition*>);
        for (const auto& move : moves) parts->push_back(RdKafka::TopicPartition::create(topic, move.partition, timestamp_ms));
        if (auto err = consumer_->offsetsForTimes(*parts, timeout_ms_); err != RdKafka::ERR_NO_ERROR)
            return "cannot look up offsets by time: " + RdKafka::err2str(err);
        for (std::size_t i = 0; i < moves.size(); ++i) {
            const auto* p = (*parts)[i];
            if (p->err() != RdKafka::ERR_NO_ERROR) return "cannot look up offsets by time: " + RdKafka::err2str(p->err());
            moves[i].to = p->offset() >= 0 ? p->offset() : moves[i].high;
        }
        return {};
    }

    // Joins the group and commits as its only member. The way when the coordinator refuses a
    // commit from outside the group: librdkafka's mock cluster does so even for an empty group.
    // Getting every partition proves that nobody else is in the group; an error otherwise.
    RdKafka::ErrorCode commit_as_member(const std::string& topic, const std::vector<pipeline::partition_move>& moves,
                                        std::size_t partitions, std::string& detail) {
        if (auto err = consumer_->subscribe({topic}); err != RdKafka::ERR_NO_ERROR) return err;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
        std::vector<RdKafka::TopicPartition*> assigned;
        while (std::chrono::steady_clock::now() < deadline) {
            std::unique_ptr<RdKafka::Message> ignored(consumer_->consume(100));
            RdKafka::TopicPartition::destroy(assigned);
            assigned.clear();
            if (consumer_->assignment(assigned) == RdKafka::ERR_NO_ERROR && assigned.size() == partitions) break;
        }
        const std::size_t got = assigned.size();
        RdKafka::TopicPartition::destroy(assigned);
        if (got != partitions) {
            consumer_->unsubscribe();
            detail = "the group gave the reset " + std::to_string(got) + " of " + std::to_string(partitions) +
                     " partitions: it has other members";
            return RdKafka::ERR_REBALANCE_IN_PROGRESS;
        }
        auto err = commit(topic, moves, detail);
        consumer_->unsubscribe();
        return err;
    }

    RdKafka::ErrorCode commit(const std::string& topic, const std::vector<pipeline::partition_move>& moves,
                              std::string& detail) {
        partition_list parts(new std::vector<RdKafka::TopicPartition*>);
        for (const auto& move : moves) parts->push_back(RdKafka::TopicPartition::create(topic, move.partition, move.to));
        auto err = consumer_->commitSync(*parts);
        if (err != RdKafka::ERR_NO_ERROR) return err;
        for (const auto* p : *parts)
            if (p->err() != RdKafka::ERR_NO_ERROR) {
                detail = "partition " + std::to_string(p->partition());
                return p->err();
            }
        return RdKafka::ERR_NO_ERROR;
    }

private:
    client_events events_;  // librdkafka's log to the daemon's, not to stderr
    int timeout_ms_;
    std::string scratch_;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
};

// Writes the marker and waits for its acknowledgement; an error message on failure.
std::optional<std::string> write_marker(const client_options& options, const std::string& group, const std::string& topic,
                                        const reset_result& result, const reset_marker& marker,
                                        std::chrono::milliseconds timeout) {
    class delivery : public RdKafka::DeliveryReportCb {
    public:
        void dr_cb(RdKafka::Message& message) override {
            done = true;
            if (message.err() != RdKafka::ERR_NO_ERROR) error = message.errstr();
        }
        bool done = false;
        std::string error;
    } report;
    client_events events;
    std::string error;
    auto conf = make_client_conf(options, client_kind::producer,
                                 {{"enable.idempotence", "true"}, {"acks", "all"}, {"client.id", "orderstream-reset"}}, error);
    if (!conf || !set_callback(*conf, "dr_cb", &report, error) || !set_callback(*conf, "event_cb", &events, error))
        return error;
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    if (!producer) return error;
    pipeline::offsets_reset_seen seen{group, marker.id, {}};
    for (const auto& m : result.moves) seen.moves.push_back({m.partition, m.from, m.to});
    const std::string value = encode_reset_marker(seen, topic);
    if (auto err = producer->produce(marker.acks_topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                     const_cast<char*>(value.data()), value.size(), group.data(), group.size(), 0, nullptr);
        err != RdKafka::ERR_NO_ERROR)
        return RdKafka::err2str(err);
    producer->flush(static_cast<int>(timeout.count()));
    if (!report.done) return std::string("no acknowledgement in time");
    if (!report.error.empty()) return report.error;
    return std::nullopt;
}

}  // namespace

reset_result reset_offsets(const client_options& options, const std::string& group, const std::string& topic,
                           const reset_request& request, const reset_marker& marker, std::chrono::milliseconds timeout) {
    std::string error;
    reset_client client(options, group, timeout, error);
    if (!client.ok()) return failure(action_outcome::failed, "cannot make a Kafka client: " + error);
    std::vector<std::int32_t> partitions;
    if (error = client.partitions(topic, partitions); !error.empty()) return failure(action_outcome::failed, error);
    reset_result result;
    for (auto partition : partitions) result.moves.push_back({partition, -1, -1, 0, 0});
    for (const auto& [partition, offset] : request.offsets)
        if (std::find(partitions.begin(), partitions.end(), partition) == partitions.end())
            return failure(action_outcome::invalid, topic + " has no partition " + std::to_string(partition) + " (it has " +
                                                        std::to_string(partitions.size()) + ")");
    if (error = client.ranges(topic, result.moves); !error.empty()) return failure(action_outcome::failed, error);
    if (error = client.committed(topic, result.moves); !error.empty()) return failure(action_outcome::failed, error);

    using target = reset_request::target;
    if (request.to == target::timestamp) {
        if (error = client.offsets_for_time(topic, request.timestamp_ms, result.moves); !error.empty())
            return failure(action_outcome::failed, error);
    }
    for (auto& move : result.moves) {
        switch (request.to) {
        case target::earliest: move.to = move.low; break;
        case target::latest: move.to = move.high; break;
        case target::timestamp: break;
        case target::offsets: {
            auto asked = request.offsets.find(move.partition);
            if (asked == request.offsets.end()) {
                move.to = move.from;  // not named: stays where it is
                break;
            }
            if (asked->second < move.low || asked->second > move.high)
                return failure(action_outcome::invalid,
                               "offset " + std::to_string(asked->second) + " is outside partition " +
                                   std::to_string(move.partition) + "'s range " + std::to_string(move.low) + " to " +
                                   std::to_string(move.high));
            move.to = asked->second;
            break;
        }
        }
    }
    // A partition left alone with nothing committed has nothing to commit either.
    result.moves.erase(std::remove_if(result.moves.begin(), result.moves.end(),
                                      [](const pipeline::partition_move& m) { return m.to < 0; }),
                       result.moves.end());
    result.outcome = action_outcome::planned;
    if (request.dry_run) return result;

    std::string detail;
    auto err = client.commit(topic, result.moves, detail);
    if (group_busy(err) && marker.join_if_refused) {
        detail.clear();
        err = client.commit_as_member(topic, result.moves, partitions.size(), detail);
    }
    if (group_busy(err))
        return failure(action_outcome::conflict, "the group " + group + " has members, so its offsets cannot be moved (" +
                                                     (detail.empty() ? RdKafka::err2str(err) : detail) +
                                                     "); stop every consumer of it first");
    if (err != RdKafka::ERR_NO_ERROR)
        return failure(action_outcome::failed,
                       "the commit was refused" + (detail.empty() ? "" : " for " + detail) + ": " + RdKafka::err2str(err));
    result.outcome = action_outcome::done;
    if (marker.acks_topic.empty()) return result;
    // Without it a restarted daemon would take the replays for duplicates.
    if (auto failure = write_marker(options, group, topic, result, marker, timeout))
        result.message = "the offsets were reset, but its marker could not be written to " + marker.acks_topic + " (" +
                         *failure + "): a restarted daemon will count the replays as duplicates";
    return result;
}

}  // namespace orderstream::kafka

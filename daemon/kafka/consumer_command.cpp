// The consume loop. A dead letter pauses only its own partition until its delivery report
// comes: written, the partition goes on after it; refused, it is read again after a backoff,
// because storing an offset past it would lose it. With processing records on, offsets are
// stored from the record log's delivery reports, in order.
#include "kafka/consumer_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_config.hpp"
#include "kafka/dead_letter_writer.hpp"
#include "orders/order_decoder.hpp"
#include "orders/order_processor.hpp"
#include "kafka/processing_log.hpp"
#include "kafka/ready_notice.hpp"
#include "kafka/record_headers.hpp"

namespace orderstream::kafka {

namespace {

using clock = std::chrono::steady_clock;

// Short, so that the stop flag and due retries are seen promptly; shorter while a batch of
// processing records is open, so it goes out on time.
constexpr int consume_timeout_ms = 200;
constexpr int consume_timeout_batch_ms = 20;

struct pending_retry {
    std::int64_t offset;  // the record whose dead letter failed
    clock::time_point due;
};

class consumer_loop {
public:
    consumer_loop(const consumer_options& options, orders::department department,
                  RdKafka::KafkaConsumer& consumer, dead_letter_writer& writer,
                  const std::atomic<bool>& stop, std::ostream& out)
        : options_(options),
          department_(department),
          tag_("[" + std::string(orders::to_string(department)) + "]"),
          consumer_(consumer),
          writer_(writer),
          stop_(stop),
          out_(out) {}

    // Where processing records go; without one, offsets are stored as soon as handled.
    void set_records(processing_log* records) { records_ = records; }

    void run() {
        while (!stop_.load()) {
            resume_due_partitions();
            take_dead_letter_outcomes(std::chrono::milliseconds(0));
            if (records_) {
                records_->poll();
                if (auto fatal = records_->fatal()) {
                    // Stored offsets stay behind the unwritten records; a new process resumes there.
                    out_ << "Consumer error: processing records cannot be written any more (" << *fatal
                         << "); exiting so that the supervisor starts the consumer afresh" << std::endl;
                    failed_ = true;
                    return;
                }
                if (records_->backlogged()) {
                    // The cluster is not taking records: process no more until it does.
                    std::this_thread::sleep_for(std::chrono::milliseconds(consume_timeout_batch_ms));
                    continue;
                }
            }
            const bool short_wait = records_ || writer_.in_flight() > 0;
            std::unique_ptr<RdKafka::Message> msg(consumer_.consume(short_wait ? consume_timeout_batch_ms : consume_timeout_ms));
            switch (msg->err()) {
                case RdKafka::ERR_NO_ERROR:
                    handle(*msg);
                    break;
                case RdKafka::ERR__TIMED_OUT:
                case RdKafka::ERR__PARTITION_EOF:
                    break;
                default:
                    // Broker or topic trouble: librdkafka keeps retrying on its own.
                    out_ << "Consume error: " << msg->errstr() << std::endl;
                    break;
            }
        }
    }

    // After the loop: waits up to `timeout` for the dead letters on their way, so the offsets
    // of those written are stored before the final commit.
    void finish_dead_letters(std::chrono::milliseconds timeout) {
        const auto deadline = clock::now() + timeout;
        while (writer_.in_flight() > 0 && clock::now() < deadline) take_dead_letter_outcomes(std::chrono::milliseconds(100));
        if (writer_.in_flight() > 0)
            out_ << tag_ << " " << writer_.in_flight()
                 << " dead letters not acknowledged before stopping; their records are read again by the group" << std::endl;
    }

    // Partitions taken away: a retry pending on one of them is its next owner's business.
    void forget(const std::vector<int>& partitions) {
        for (int partition : partitions) {
            retries_.erase(partition);
            backoff_.erase(partition);
        }
    }

    bool failed() const { return failed_; }
    std::int64_t processed() const { return processed_; }
    std::int64_t dead_letters() const { return dead_letters_; }

    // The positions of handled records whose processing records were written: the highest per
    // partition is enough (and a revoked partition is reported once, not once per order).
    void store_written(const std::vector<record_position>& positions) {
        std::map<std::int32_t, std::int64_t> highest;
        for (const auto& p : positions) highest[p.partition] = std::max(highest[p.partition], p.offset);
        for (const auto& [partition, offset] : highest) store_offset(partition, offset);
    }

private:
    void handle(const RdKafka::Message& msg) {
        // Records fetched before the pause took effect: they are read again after the dead
        // letter ahead of them is written (or retried).
        if (retries_.count(msg.partition()) || in_flight_.count(msg.partition())) return;

        out_ << "Message #" << ++received_ << " received from partition " << msg.partition()
             << " at offset " << msg.offset() << std::endl;
        const orders::decode_result decoded = orders::decode_order(msg.payload(), msg.len(), options_.max_order_bytes);
        const record_position position{msg.partition(), msg.offset()};
        if (decoded.ok()) {
            const auto id = decoded.value->order_id;
            if (options_.test_skip_orders.count(id)) {
                out_ << "[test fault] order " << id << " skipped: its offset is stored without processing it" << std::endl;
                handled(position);
                return;
            }
            const int times = options_.test_duplicate_orders.count(id) ? 2 : 1;
            for (int i = 0; i < times; ++i) {
                out_ << orders::describe(department_, *decoded.value) << std::endl;
                ++processed_;
                if (records_) records_->add(id, position, consumer_.memberid());
            }
            if (!records_) store_offset(position.partition, position.offset);
            return;
        }

        const std::string_view reason = orders::to_string(decoded.reason);
        out_ << tag_ << " dead letter at partition " << msg.partition() << " offset "
             << msg.offset() << ": " << reason << ": " << decoded.detail << std::endl;
        dead_letter_writer::header_list headers{{"dlq.reason", std::string(reason)},
                                                {"dlq.detail", decoded.detail},
                                                {"dlq.group", options_.group_id},
                                                {"dlq.topic", msg.topic_name()},
                                                {"dlq.partition", std::to_string(msg.partition())},
                                                {"dlq.offset", std::to_string(msg.offset())}};
        // A redriven record that fails again keeps its count, so the panel shows it.
        if (auto redriven = header_value(msg, "dlq.redriven")) headers.emplace_back("dlq.redriven", std::move(*redriven));
        const auto failure = writer_.send(msg, headers);
        if (failure) {
            schedule_retry(position, *failure);
            return;
        }
        // Nothing after it in this partition is handled until its delivery report comes.
        in_flight_[msg.partition()] = msg.offset();
        pause(msg.partition());
    }

    void take_dead_letter_outcomes(std::chrono::milliseconds wait) {
        outcomes_.clear();
        writer_.poll(outcomes_, wait);
        for (const auto& outcome : outcomes_) {
            in_flight_.erase(outcome.partition);
            const record_position position{outcome.partition, outcome.offset};
            if (outcome.failure) {
                if (!stop_.load()) schedule_retry(position, *outcome.failure);
                continue;  // not stored: read again after the backoff, or by the group's next member
            }
            ++dead_letters_;
            backoff_.erase(outcome.partition);
            handled(position);
            out_ << tag_ << " dead letter from partition " << outcome.partition << " offset " << outcome.offset
                 << " written to " << options_.dead_letter_topic << std::endl;
            if (!stop_.load()) resume_at(outcome.partition, outcome.offset + 1);
        }
    }

    // A record handled without a processing record of its own: its offset follows the batches
    // before it, so it is never committed ahead of an order whose record is not written yet.
    void handled(record_position position) {
        if (records_)
            records_->add_without_record(position);
        else
            store_offset(position.partition, position.offset);
    }

    void store_offset(std::int32_t partition, std::int64_t offset) {
        std::unique_ptr<RdKafka::TopicPartition> tp(
            RdKafka::TopicPartition::create(options_.topic, partition, offset + 1));
        std::vector<RdKafka::TopicPartition*> list{tp.get()};
        RdKafka::ErrorCode err = consumer_.offsets_store(list);
        if (err == RdKafka::ERR_NO_ERROR) err = tp->err();
        if (err != RdKafka::ERR_NO_ERROR) {
            // Typically the partition was just revoked; its next owner reprocesses the record.
            out_ << "Could not store offset " << offset + 1 << " for partition "
                 << partition << ": " << RdKafka::err2str(err) << std::endl;
        }
    }

    // Keeps the partition paused and rewinds it to the failed record after a backoff, so
    // nothing after it is processed (and its offset stored) before the dead letter is written.
    void schedule_retry(record_position position, const std::string& failure) {
        auto& backoff = backoff_[position.partition];
        backoff = backoff.count() == 0 ? options_.retry_backoff
                                       : std::min(backoff * 2, options_.retry_backoff_max);
        out_ << tag_ << " could not dead-letter partition " << position.partition << " offset "
             << position.offset << ": " << failure << "; retrying in " << backoff.count() << " ms"
             << std::endl;
        retries_[position.partition] = {position.offset, clock::now() + backoff};
        pause(position.partition);
    }

    void pause(std::int32_t partition) {
        std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(options_.topic, partition));
        std::vector<RdKafka::TopicPartition*> list{tp.get()};
        RdKafka::ErrorCode err = consumer_.pause(list);
        if (err == RdKafka::ERR_NO_ERROR) err = tp->err();
        if (err != RdKafka::ERR_NO_ERROR)
            out_ << "Could not pause partition " << partition << ": " << RdKafka::err2str(err) << std::endl;
    }

    void resume_at(std::int32_t partition, std::int64_t offset) {
        std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(options_.topic, partition, offset));
        // Seek first: the fetch position may have run ahead before the pause. Both are
        // asynchronous and applied in this order.
        RdKafka::ErrorCode err = consumer_.seek(*tp, 0);
        std::vector<RdKafka::TopicPartition*> list{tp.get()};
        if (err == RdKafka::ERR_NO_ERROR) err = consumer_.resume(list);
        if (err == RdKafka::ERR_NO_ERROR) err = tp->err();
        if (err != RdKafka::ERR_NO_ERROR) {
            // Usually the partition was revoked meanwhile; its next owner starts from the
            // committed offset, which is not past the record.
            out_ << "Could not resume partition " << partition << " at offset " << offset << ": "
                 << RdKafka::err2str(err) << std::endl;
        }
    }

    void resume_due_partitions() {
        const auto now = clock::now();
        for (auto it = retries_.begin(); it != retries_.end();) {
            if (it->second.due > now) {
                ++it;
                continue;
            }
            resume_at(it->first, it->second.offset);
            it = retries_.erase(it);
        }
    }

    const consumer_options& options_;
    const orders::department department_;
    const std::string tag_;
    RdKafka::KafkaConsumer& consumer_;
    dead_letter_writer& writer_;
    processing_log* records_ = nullptr;
    const std::atomic<bool>& stop_;
    std::ostream& out_;

    bool failed_ = false;
    std::int64_t received_ = 0;
    std::int64_t processed_ = 0;
    std::int64_t dead_letters_ = 0;
    std::map<std::int32_t, pending_retry> retries_;              // by partition
    std::map<std::int32_t, std::int64_t> in_flight_;             // partition -> offset of its dead letter on its way
    std::vector<dead_letter_outcome> outcomes_;
    std::map<std::int32_t, std::chrono::milliseconds> backoff_;  // by partition
};

std::string join(const std::vector<int>& numbers) {
    std::string text;
    for (int n : numbers) text += (text.empty() ? "" : ", ") + std::to_string(n);
    return text;
}

// Takes what the group gives this member and says so, in the terminal and to the supervisor
// (whose readiness and stall checks need to know who holds which partition). Before partitions
// go, the processing records of their orders are written, so their offsets are committed with
// the revoke and the next owner does not process those orders again.
class group_membership : public RdKafka::RebalanceCb {
public:
    group_membership(std::string label, std::ostream& out) : label_(std::move(label)), out_(out) {}
    void set_loop(consumer_loop* loop, processing_log* records) {
        loop_ = loop;
        records_ = records;
    }

    void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                      std::vector<RdKafka::TopicPartition*>& partitions) override {
        const bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
        std::vector<int> numbers;
        for (const auto* p : partitions) numbers.push_back(p->partition());
        std::sort(numbers.begin(), numbers.end());
        if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
            std::unique_ptr<RdKafka::Error> failure(cooperative ? consumer->incremental_assign(partitions) : nullptr);
            const auto code = cooperative ? RdKafka::ERR_NO_ERROR : consumer->assign(partitions);
            if (failure || code != RdKafka::ERR_NO_ERROR)
                out_ << "Consumer error: cannot take partitions " << join(numbers) << ": "
                     << (failure ? failure->str() : RdKafka::err2str(code)) << std::endl;
        } else {
            const bool revoked = err == RdKafka::ERR__REVOKE_PARTITIONS;
            if (!revoked) out_ << "Consumer rebalance error: " << RdKafka::err2str(err) << std::endl;
            // A lost assignment (the session timed out) cannot commit any more: no point waiting.
            if (revoked && records_ && !consumer->assignment_lost() && !records_->flush(std::chrono::seconds(5)))
                out_ << "Consumer warning: processing records of revoked partitions not written within 5 s; their next "
                        "owner processes those orders again"
                     << std::endl;
            if (loop_) loop_->forget(numbers);
            std::unique_ptr<RdKafka::Error> failure(cooperative && revoked ? consumer->incremental_unassign(partitions) : nullptr);
            const auto code = cooperative && revoked ? RdKafka::ERR_NO_ERROR : consumer->unassign();
            if (failure || code != RdKafka::ERR_NO_ERROR)
                out_ << "Consumer error: cannot give up partitions: " << (failure ? failure->str() : RdKafka::err2str(code))
                     << std::endl;
        }
        std::vector<RdKafka::TopicPartition*> held;
        consumer->assignment(held);
        std::vector<int> holding;
        for (auto* p : held) holding.push_back(p->partition());
        RdKafka::TopicPartition::destroy(held);
        std::sort(holding.begin(), holding.end());
        if (!holding.empty())
            out_ << "Consumer " << label_ << " holds partitions " << join(holding) << std::endl;
        else if (err == RdKafka::ERR__ASSIGN_PARTITIONS)
            out_ << "Consumer " << label_ << " holds no partition: the group has more members than the topic has partitions"
                 << std::endl;
        else
            out_ << "Consumer " << label_ << " gave up partitions " << join(numbers) << " (the group rebalances)" << std::endl;
        notice_.assigned(holding);
    }

private:
    std::string label_;
    std::ostream& out_;
    consumer_loop* loop_ = nullptr;
    processing_log* records_ = nullptr;
    ready_notice notice_;
};

}  // namespace

std::string default_client_label(const std::string& group_id) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return group_id + "@" + (host[0] ? host : "unknown") + "#" + std::to_string(::getpid());
}

int run_consumer(const consumer_options& options, const std::atomic<bool>& stop,
                 std::ostream& out) {
    if (options.group_id.empty()) {
        out << "Consumer error: a consumer group id is required" << std::endl;
        return 1;
    }
    const auto known = orders::department_for_group(options.group_id);
    if (!known) {
        out << "Warning: unknown consumer group \"" << options.group_id
            << "\" (expected shipping-group, email-group or analytics-group); "
               "processing orders as shipping"
            << std::endl;
    }
    const orders::department department = known.value_or(orders::department::shipping);
    const std::string label = options.client_label.empty() ? default_client_label(options.group_id) : options.client_label;

    std::string error;
    auto conf = make_client_conf(options.kafka, client_kind::consumer,
                                 {{"auto.offset.reset", "earliest"},
                                  // We store each offset ourselves once its record is handled;
                                  // auto-commit then commits only what was stored.
                                  {"enable.auto.offset.store", "false"},
                                  {"enable.auto.commit", "true"},
                                  // Commit stored offsets every second so lag shown is fresh.
                                  {"auto.commit.interval.ms", "1000"}},
                                 error);
    // The group id is an explicit option, so it wins over any group.id in the properties; the
    // label names this process to the cluster (its group description shows it).
    group_membership membership(label, out);
    std::string errstr;
    if (!conf || !set_property(*conf, "group.id", options.group_id, error) ||
        !set_property(*conf, "client.id", label, error)) {
        out << "Consumer error: " << error << std::endl;
        return 1;
    }
    if (conf->set("rebalance_cb", &membership, errstr) != RdKafka::Conf::CONF_OK) {
        out << "Consumer error: " << errstr << std::endl;
        return 1;
    }
    auto writer = dead_letter_writer::create(options.kafka, options.dead_letter_topic,
                                             options.dead_letter_timeout, error);
    if (!writer) {
        out << "Consumer error: " << error << std::endl;
        return 1;
    }
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(
        RdKafka::KafkaConsumer::create(conf.get(), errstr));
    if (!consumer) {
        out << "Consumer error: cannot create a Kafka consumer: " << errstr << std::endl;
        return 1;
    }
    consumer_loop loop(options, department, *consumer, *writer, stop, out);
    std::unique_ptr<processing_log> records;
    if (!options.acks_topic.empty()) {
        processing_log_options record_options;
        record_options.topic = options.acks_topic;
        record_options.source_topic = options.topic;
        record_options.group = options.group_id;
        record_options.client = label;
        records = processing_log::create(
            options.kafka, record_options,
            [&loop](const std::vector<record_position>& written) { loop.store_written(written); }, error);
        if (!records) {
            out << "Consumer error: " << error << std::endl;
            consumer->close();
            return 1;
        }
        loop.set_records(records.get());
    }
    membership.set_loop(&loop, records.get());
    if (const auto err = consumer->subscribe({options.topic}); err != RdKafka::ERR_NO_ERROR) {
        out << "Consumer error: cannot subscribe to " << options.topic << ": "
            << RdKafka::err2str(err) << std::endl;
        consumer->close();
        return 1;
    }
    out << "Consumer " << options.group_id << " subscribed to " << options.topic << " as " << label << std::endl;

    loop.run();

    // Dead letters, then records: both store offsets that close() then commits.
    loop.finish_dead_letters(std::chrono::seconds(5));
    // Records first: their delivery reports store the last offsets, which close() then commits.
    if (records && !records->flush(std::chrono::seconds(5)))
        out << "Consumer warning: some processing records were not written before stopping; "
               "their orders stay uncommitted and are processed again by the group"
            << std::endl;
    // Commits the stored offsets and leaves the group, so partitions move on at once.
    if (const auto err = consumer->close(); err != RdKafka::ERR_NO_ERROR) {
        out << "Consumer warning: close failed: " << RdKafka::err2str(err) << std::endl;
    }
    out << "Consumer " << options.group_id << " stopped: processed " << loop.processed()
        << " orders, " << loop.dead_letters() << " dead letters" << std::endl;
    return loop.failed() ? 1 : 0;
}

}  // namespace orderstream::kafka

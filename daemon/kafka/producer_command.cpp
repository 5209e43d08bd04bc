// Produce loop with delivery reports; reports arrive through poll()/flush() on this thread, so
// all output comes from one thread.
#include "kafka/producer_command.hpp"

#include <algorithm>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_config.hpp"
#include "kafka/kafka_log.hpp"
#include "kafka/order_id_lookup.hpp"
#include "orders/order_generator.hpp"

namespace orderstream::kafka {

namespace {

using clock = std::chrono::steady_clock;

// How often the stop flag is looked at while waiting.
constexpr std::chrono::milliseconds stop_check_interval{100};
// Output goes out in batches: one write() per batch instead of one per line was most of the
// producer's kernel time at full speed. A batch waits at most this long, or until it is this big.
constexpr std::chrono::milliseconds output_interval{50};
constexpr std::size_t output_batch_bytes = 64 * 1024;
// At full speed (no delay) delivery reports are served and the batch looked at once per this many
// orders rather than after each: a clock read and a poll per order were a measurable share of
// the producer's CPU, and librdkafka queues the reports meanwhile.
constexpr std::int64_t full_speed_poll_every = 256;

// The producer's lines, written to `out` in batches: when the batch is due or big, when the
// producer is about to wait (idle), and at the end.
class output_batch {
public:
    explicit output_batch(std::ostream& out) : out_(out) {}
    ~output_batch() { flush(); }
    std::ostream& lines() { return batch_; }
    void flush_if_due() {
        if (clock::now() - last_flush_ >= output_interval || batch_.tellp() >= static_cast<std::streamoff>(output_batch_bytes))
            flush();
    }
    void flush() {
        last_flush_ = clock::now();
        if (batch_.tellp() <= 0) return;
        const std::string text = batch_.str();
        out_.write(text.data(), static_cast<std::streamsize>(text.size()));
        out_.flush();
        batch_.str(std::string());
    }

private:
    std::ostream& out_;
    std::ostringstream batch_;
    clock::time_point last_flush_ = clock::now();
};
constexpr double max_delay_seconds = 24 * 3600;

class delivery_reporter : public RdKafka::DeliveryReportCb {
public:
    explicit delivery_reporter(output_batch& out) : out_(out) {}

    void dr_cb(RdKafka::Message& message) override {
        const std::string id = message.key() ? *message.key() : std::string("?");
        if (message.err() != RdKafka::ERR_NO_ERROR) {
            ++failed_;
            out_.lines() << "Delivery failed for order " << id << ": " << message.errstr() << '\n';
        } else {
            ++delivered_;
            out_.lines() << "Delivered order " << id << " to " << message.topic_name() << " [" << message.partition()
                         << "] at offset " << message.offset() << '\n';
        }
    }

    std::int64_t delivered() const { return delivered_; }
    std::int64_t failed() const { return failed_; }

private:
    output_batch& out_;
    std::int64_t delivered_ = 0;
    std::int64_t failed_ = 0;
};

std::int64_t choose_first_id(const producer_options& options) {
    if (options.first_order_id) return *options.first_order_id;
    const auto found =
        find_highest_order_id(options.kafka, options.topic, options.id_lookup_timeout);
    if (found.error) {
        kafka_log()->warn("could not read the last order id from topic {}: {}", options.topic,
                          *found.error);
    }
    if (found.highest_id) return *found.highest_id + 1;
    if (found.error) {
        kafka_log()->warn("starting at order {}; ids may repeat ones already in {}",
                          orders::default_first_order_id, options.topic);
    }
    return orders::default_first_order_id;
}

}  // namespace

int run_producer(const producer_options& options, const std::atomic<bool>& stop,
                 std::ostream& stream) {
    output_batch batch(stream);
    auto& out = batch.lines();
    // Declared before the producer so that it outlives it: librdkafka may call it until then.
    delivery_reporter reporter(batch);

    std::string error;
    auto conf = make_client_conf(
        options.kafka, client_kind::producer,
        // Idempotence implies acks=all and keeps retries from
        // duplicating or reordering orders.
        {{"enable.idempotence", "true"}, {"acks", "all"}, {"linger.ms", "5"}}, error);
    if (!conf || !set_callback(*conf, "dr_cb", &reporter, error)) {
        out << "Producer error: " << error << '\n';
        return 1;
    }
    std::string errstr;
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), errstr));
    if (!producer) {
        out << "Producer error: cannot create a Kafka producer: " << errstr << '\n';
        return 1;
    }

    const std::int64_t first_id = choose_first_id(options);
    orders::order_generator generator(options.seed.value_or(std::random_device{}()), first_id);
    out << "Producer started: topic " << options.topic << ", first order #" << first_id << ", "
        << (options.num_orders > 0 ? std::to_string(options.num_orders) + " orders"
                                   : std::string("until stopped"))
        << '\n';
    batch.flush();

    // Clamped so that an absurd delay cannot overflow the clock's integer duration.
    const auto delay = std::chrono::duration_cast<clock::duration>(
        std::chrono::duration<double>(std::clamp(options.delay_seconds, 0.0, max_delay_seconds)));
    std::int64_t accepted = 0;  // handed to librdkafka; each gets exactly one delivery report
    std::int64_t rejected = 0;  // refused by produce() itself
    // Never handed over because we were stopped while the local queue was full.
    std::int64_t abandoned = 0;
    std::int64_t sent = 0;
    auto next_order = clock::now();

    // Reused for every order: their strings keep their capacity, so a warm loop allocates nothing
    // per order (librdkafka copies the record, RK_MSG_COPY).
    orders::order o;
    std::string key, value;
    while (!stop.load() && (options.num_orders <= 0 || sent < options.num_orders)) {
        std::string fatal;
        if (producer->fatal_error(fatal) != RdKafka::ERR_NO_ERROR) {
            out << "Producer error: fatal Kafka error, stopping: " << fatal << '\n';
            break;
        }

        generator.next(std::chrono::system_clock::now(), o);
        ++sent;
        out << "Order #" << o.order_id << " from " << o.user << "\n  Items: ";
        for (std::size_t i = 0; i < o.items.size(); ++i) out << (i > 0 ? ", " : "") << o.items[i];
        out << "\n  Total: $" << orders::format_amount(o.total) << '\n';

        key.assign(std::to_string(o.order_id));  // short: no allocation
        value.clear();
        orders::append_json(o, value);
        RdKafka::ErrorCode err;
        for (;;) {
            err = producer->produce(options.topic, RdKafka::Topic::PARTITION_UA,
                                    RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                                    value.size(), key.data(), key.size(), 0, nullptr);
            if (err != RdKafka::ERR__QUEUE_FULL || stop.load()) break;
            // The local queue is full: serve delivery reports to make room, then try again.
            producer->poll(static_cast<int>(stop_check_interval.count()));
            batch.flush_if_due();
        }
        if (err == RdKafka::ERR_NO_ERROR) {
            ++accepted;
        } else if (err == RdKafka::ERR__QUEUE_FULL) {
            ++abandoned;
            out << "Order " << o.order_id << " not sent: stopped while the send queue was full"
                << '\n';
        } else {
            ++rejected;
            out << "Delivery failed for order " << o.order_id << ": " << RdKafka::err2str(err)
                << '\n';
        }

        if (options.num_orders > 0 && sent >= options.num_orders) break;
        if (delay == clock::duration::zero()) {
            if (sent % full_speed_poll_every == 0) {
                producer->poll(0);
                batch.flush_if_due();
            }
            continue;
        }
        batch.flush_if_due();
        // Wait for the next order's time while serving delivery reports, so they print promptly.
        // Times follow a schedule, so the time spent on each order does not slow the rate; one
        // that fell far behind starts afresh rather than catching up in a burst. Waits round up
        // to whole milliseconds: a sub-millisecond rest would otherwise spin on poll(0).
        next_order += delay;
        if (next_order < clock::now() - delay) next_order = clock::now();
        if (next_order > clock::now()) batch.flush();  // idle until the next order: show what is done
        do {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(next_order - clock::now());
            producer->poll(static_cast<int>(
                std::clamp<long long>(left.count(), 0, stop_check_interval.count())));
            batch.flush_if_due();
        } while (!stop.load() && clock::now() < next_order);
    }

    const RdKafka::ErrorCode flush_err =
        producer->flush(static_cast<int>(options.flush_timeout.count()));
    const std::int64_t failed = reporter.failed() + rejected;
    const std::int64_t undelivered =
        accepted - reporter.delivered() - reporter.failed() + abandoned;
    if (flush_err != RdKafka::ERR_NO_ERROR) {
        out << "Producer warning: flush did not complete within " << options.flush_timeout.count()
            << " ms: " << RdKafka::err2str(flush_err) << '\n';
    }
    out << "Producer stopped: " << reporter.delivered() << " delivered, " << failed << " failed, "
        << undelivered << " undelivered" << '\n';
    return failed == 0 && undelivered == 0 ? 0 : 1;
}

}  // namespace orderstream::kafka

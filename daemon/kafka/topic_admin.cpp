// Metadata to find what is missing, then one CreateTopics request through the C Admin API.
#include "kafka/topic_admin.hpp"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_config.hpp"

namespace orderstream::kafka {

namespace {

using clock = std::chrono::steady_clock;

struct new_topic_deleter {
    void operator()(rd_kafka_NewTopic_t* t) const { rd_kafka_NewTopic_destroy(t); }
};
struct admin_options_deleter {
    void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
struct queue_deleter {
    void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct event_deleter {
    void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};

int remaining_ms(clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    return static_cast<int>(std::max<long long>(left, 1));
}

topics_check failed(std::string why) { return {topics_outcome::failed, std::move(why), {}}; }

}  // namespace

topics_check ensure_topics(const client_options& options, std::chrono::milliseconds timeout,
                           int replication) {
    const auto deadline = clock::now() + timeout;
    std::string error;
    auto conf = make_client_conf(options, client_kind::producer, {}, error);
    client_events events;  // declared before the client: outlives it
    if (!conf || !set_callback(*conf, "event_cb", &events, error)) return failed(error);
    std::string errstr;
    // Any client type can issue admin requests; a producer needs no group.
    std::unique_ptr<RdKafka::Producer> client(RdKafka::Producer::create(conf.get(), errstr));
    if (!client) return failed("cannot create a Kafka client: " + errstr);

    RdKafka::Metadata* raw_metadata = nullptr;
    const RdKafka::ErrorCode meta_err =
        client->metadata(true, nullptr, &raw_metadata, remaining_ms(deadline));
    std::unique_ptr<RdKafka::Metadata> metadata(raw_metadata);
    if (meta_err != RdKafka::ERR_NO_ERROR) {
        client->poll(0);  // serves the error events that say why
        const auto why = events.access_error();
        return failed("cannot reach Kafka at " + options.bootstrap_servers + ": " + (why.empty() ? RdKafka::err2str(meta_err) : why));
    }
    std::set<std::string> existing;
    for (const RdKafka::TopicMetadata* t : *metadata->topics()) {
        if (t->err() == RdKafka::ERR_NO_ERROR) existing.insert(t->topic());
    }
    std::vector<std::string> missing;
    for (const char* topic : {orders_topic, dead_letter_topic, acks_topic}) {
        if (!existing.count(topic)) missing.emplace_back(topic);
    }
    if (missing.empty()) return {topics_outcome::ready, {}, {}};

    const int brokers = static_cast<int>(metadata->brokers()->size());
    if (brokers < replication) {
        topics_check waiting{topics_outcome::too_few_brokers,
                             "the cluster shows " + std::to_string(brokers) + " broker(s); waiting for " +
                                 std::to_string(replication) + " to create " + std::to_string(missing.size()) +
                                 " topic(s) with " + std::to_string(replication) +
                                 " replicas; on a cluster that has fewer brokers, set kafka.topic_replication to at "
                                 "most their number, or create the topics yourself",
                             {}};
        for (const auto* broker : *metadata->brokers())
            waiting.brokers.emplace_back(broker->id(), broker->host() + ":" + std::to_string(broker->port()));
        return waiting;
    }
    std::vector<std::unique_ptr<rd_kafka_NewTopic_t, new_topic_deleter>> owned;
    std::vector<rd_kafka_NewTopic_t*> topics;
    char c_errstr[512];
    for (const auto& name : missing) {
        owned.emplace_back(rd_kafka_NewTopic_new(name.c_str(), managed_topic_partitions,
                                                 replication, c_errstr, sizeof c_errstr));
        if (!owned.back()) return failed("cannot describe topic " + name + ": " + c_errstr);
        if (replication >= 3) {
            // From 3 replicas on, acks=all then survives one broker down without losing writes.
            const rd_kafka_resp_err_t err =
                rd_kafka_NewTopic_set_config(owned.back().get(), "min.insync.replicas", "2");
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                return failed("cannot set min.insync.replicas on " + name + ": " + rd_kafka_err2str(err));
            }
        }
        topics.push_back(owned.back().get());
    }

    rd_kafka_t* rk = client->c_ptr();
    std::unique_ptr<rd_kafka_AdminOptions_t, admin_options_deleter> admin_options(
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
    if (!admin_options) return failed("cannot allocate admin options");
    const int budget = remaining_ms(deadline);
    if (rd_kafka_AdminOptions_set_request_timeout(admin_options.get(), budget, c_errstr,
                                                  sizeof c_errstr) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_AdminOptions_set_operation_timeout(
            admin_options.get(), budget, c_errstr, sizeof c_errstr) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return failed(std::string("cannot set the admin timeout: ") + c_errstr);
    }
    std::unique_ptr<rd_kafka_queue_t, queue_deleter> queue(rd_kafka_queue_new(rk));
    rd_kafka_CreateTopics(rk, topics.data(), topics.size(), admin_options.get(), queue.get());

    std::unique_ptr<rd_kafka_event_t, event_deleter> event(
        rd_kafka_queue_poll(queue.get(), remaining_ms(deadline)));
    if (!event) return failed("timed out creating topics after " + std::to_string(timeout.count()) + " ms");
    if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return failed(std::string("cannot create topics: ") + rd_kafka_event_error_string(event.get()));
    }
    const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
    if (!result) return failed("unexpected reply to CreateTopics");
    std::size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
    std::string failures;
    for (std::size_t i = 0; i < count; ++i) {
        const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
        // Someone else (another daemon, an operator) may have created it meanwhile.
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            continue;
        }
        const char* why = rd_kafka_topic_result_error_string(results[i]);
        failures += (failures.empty() ? "" : "; ") + std::string("cannot create topic ") +
                    rd_kafka_topic_result_name(results[i]) + ": " +
                    (why ? why : rd_kafka_err2str(err));
    }
    if (!failures.empty()) return failed(failures);
    return {topics_outcome::ready, {}, {}};
}

}  // namespace orderstream::kafka

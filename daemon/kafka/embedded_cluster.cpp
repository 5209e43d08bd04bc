// Starts librdkafka mock brokers and creates the topics orderstream uses.
#include "kafka/embedded_cluster.hpp"

#include <algorithm>
#include <stdexcept>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {

namespace {

struct conf_deleter {
    void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};

void set_host_property(rd_kafka_conf_t* conf, const char* name, const char* value) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        throw std::runtime_error(std::string("embedded Kafka: cannot set ") + name + "=" + value +
                                 ": " + errstr);
    }
}

}  // namespace

std::unique_ptr<embedded_cluster> embedded_cluster::start(int broker_count) {
    if (broker_count < 1) {
        throw std::runtime_error("embedded Kafka: broker count must be at least 1, got " +
                                 std::to_string(broker_count));
    }
    std::unique_ptr<embedded_cluster> self(new embedded_cluster());
    self->broker_count_ = broker_count;

    std::unique_ptr<rd_kafka_conf_t, conf_deleter> conf(rd_kafka_conf_new());
    // The host handle only carries the mock brokers; it never connects anywhere itself, and
    // without this it would log a notice about having no bootstrap servers.
    set_host_property(conf.get(), "log_level", "4");
    char errstr[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr);
    if (!rk) {
        throw std::runtime_error(std::string("embedded Kafka: cannot create host handle: ") +
                                 errstr);
    }
    conf.release();  // rd_kafka_new took ownership
    self->host_.reset(rk);

    self->cluster_.reset(rd_kafka_mock_cluster_new(rk, broker_count));
    if (!self->cluster_) {
        throw std::runtime_error("embedded Kafka: cannot start " + std::to_string(broker_count) +
                                 " mock brokers (are local TCP ports available?)");
    }
    self->bootstrap_servers_ = rd_kafka_mock_cluster_bootstraps(self->cluster_.get());

    const int replication = std::min(broker_count, 3);
    for (const char* topic : {orders_topic, dead_letter_topic, acks_topic}) {
        const rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
            self->cluster_.get(), topic, embedded_topic_partitions, replication);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw std::runtime_error(std::string("embedded Kafka: cannot create topic ") + topic +
                                     ": " + rd_kafka_err2str(err));
        }
    }
    return self;
}

std::vector<std::pair<std::string, std::string>> embedded_client_defaults() {
    // The mock broker holds every fetch for fetch.wait.max.ms (500 ms by default) even when data
    // arrives meanwhile; 10 ms keeps that wait out of the latency the dashboard shows.
    return {{"session.timeout.ms", "6000"}, {"fetch.wait.max.ms", "10"}};
}

}  // namespace orderstream::kafka

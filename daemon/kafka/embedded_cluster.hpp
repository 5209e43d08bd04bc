// An in-process Kafka cluster on librdkafka's mock brokers, for running without an external
// cluster and for hermetic tests. Its brokers listen on 127.0.0.1, so child processes can use it.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace orderstream::kafka {

inline constexpr int embedded_default_broker_count = 3;
inline constexpr int embedded_topic_partitions = 3;

class embedded_cluster {
public:
    // Starts the brokers and creates the orders and dead-letter topics.
    // Throws std::runtime_error saying what failed.
    static std::unique_ptr<embedded_cluster> start(
        int broker_count = embedded_default_broker_count);

    embedded_cluster(const embedded_cluster&) = delete;
    embedded_cluster& operator=(const embedded_cluster&) = delete;

    // "127.0.0.1:port,..." for bootstrap.servers.
    const std::string& bootstrap_servers() const { return bootstrap_servers_; }
    // For fault injection (rd_kafka_mock_* calls); owned by this object.
    rd_kafka_mock_cluster_t* mock() { return cluster_.get(); }
    int broker_count() const { return broker_count_; }

private:
    embedded_cluster() = default;

    struct handle_deleter {
        void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
    };
    struct cluster_deleter {
        void operator()(rd_kafka_mock_cluster_t* c) const { rd_kafka_mock_cluster_destroy(c); }
    };

    // The mock cluster lives inside this handle and must go first: members are destroyed in
    // reverse order of declaration, so host_ is declared before cluster_.
    std::unique_ptr<rd_kafka_t, handle_deleter> host_;
    std::unique_ptr<rd_kafka_mock_cluster_t, cluster_deleter> cluster_;
    std::string bootstrap_servers_;
    int broker_count_ = 0;
};

// Properties every client of an embedded cluster should get (the supervisor passes them to its
// children): a short session timeout so a consumer that died is noticed and its partitions
// handed on within seconds.
std::vector<std::pair<std::string, std::string>> embedded_client_defaults();

}  // namespace orderstream::kafka

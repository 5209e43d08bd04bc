// See kafka_tools.hpp.
#include "support/kafka_tools.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <regex>
#include <stdexcept>

namespace orderstream::testing {

std::string embedded_bootstrap(const daemon_process& daemon) {
    std::smatch match;
    const std::string log = daemon.log();
    static const std::regex address(R"(embedded \d+-broker cluster at (\S+))");
    if (!std::regex_search(log, match, address)) throw std::runtime_error("the daemon logged no embedded cluster:\n" + log);
    return match[1];
}

void kcat_produce(const std::string& bootstrap, const std::filesystem::path& records_file, const std::string& topic,
                  const std::string& extra) {
    auto result = run_shell("kcat -P -b " + bootstrap + " -t " + topic + " -K '\t' -Z -X message.max.bytes=2000000 " +
                            extra + " -l " + records_file.string());
    if (result.exit_code != 0) throw std::runtime_error("kcat failed: " + result.output);
}

struct mock_brokers::parts {
    std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> host{nullptr, &rd_kafka_destroy};
    std::unique_ptr<rd_kafka_mock_cluster_t, decltype(&rd_kafka_mock_cluster_destroy)> cluster{
        nullptr, &rd_kafka_mock_cluster_destroy};
};

mock_brokers::mock_brokers(int count) : parts_(std::make_unique<parts>()) {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(errstr);
    }
    parts_->host.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr));  // owns conf when it succeeds
    if (!parts_->host) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(std::string("cannot host mock brokers: ") + errstr);
    }
    parts_->cluster.reset(rd_kafka_mock_cluster_new(parts_->host.get(), count));
    if (!parts_->cluster) throw std::runtime_error("cannot start " + std::to_string(count) + " mock brokers");
}

mock_brokers::~mock_brokers() = default;

std::string mock_brokers::bootstrap_servers() const { return rd_kafka_mock_cluster_bootstraps(parts_->cluster.get()); }

}  // namespace orderstream::testing

// Processing acknowledgements; see ack_publisher.hpp.
#include "kafka/ack_publisher.hpp"

#include <nlohmann/json.hpp>

#include "kafka/client_config.hpp"

namespace orderstream::kafka {

std::unique_ptr<ack_publisher> ack_publisher::create(const client_options& options, std::string topic,
                                                     std::string group, std::string& error) {
    std::unique_ptr<ack_publisher> publisher(new ack_publisher(std::move(topic), std::move(group)));
    auto conf = make_client_conf(options, client_kind::producer,
                                 {{"linger.ms", "20"}, {"acks", "all"}, {"client.id", "orderstream-acks"}}, error);
    if (!conf || !set_callback(*conf, "dr_cb", &publisher->reports_, error)) return nullptr;
    std::string errstr;
    publisher->producer_.reset(RdKafka::Producer::create(conf.get(), errstr));
    if (!publisher->producer_) {
        error = "cannot create the acknowledgement producer: " + errstr;
        return nullptr;
    }
    return publisher;
}

ack_publisher::~ack_publisher() = default;

void ack_publisher::publish(std::int64_t order_id, std::int32_t partition, std::int64_t offset,
                            const std::string& member) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    std::string value = nlohmann::json{{"order_id", order_id}, {"group", group_}, {"member", member}, {"partition", partition},
                                       {"offset", offset}, {"processed_ms", now}}
                            .dump();
    std::string key = std::to_string(order_id);
    auto err = producer_->produce(topic_, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                  value.data(), value.size(), key.data(), key.size(), 0, nullptr);
    if (err == RdKafka::ERR__QUEUE_FULL) {
        producer_->poll(100);
        err = producer_->produce(topic_, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                 value.data(), value.size(), key.data(), key.size(), 0, nullptr);
    }
    if (err != RdKafka::ERR_NO_ERROR) ++reports_.failed;
}

void ack_publisher::flush(std::chrono::milliseconds timeout) {
    producer_->flush(static_cast<int>(timeout.count()));
}

}  // namespace orderstream::kafka

// Embedded cluster teaching controls; see broker_control.hpp.
#include "kafka/broker_control.hpp"

#include "log/logger.hpp"

namespace orderstream::kafka {

broker_control::broker_control(rd_kafka_mock_cluster_t* cluster, int broker_count)
    : cluster_(cluster), broker_count_(broker_count) {}

std::optional<std::string> broker_control::set_up(int broker, bool up,
                                                  const std::vector<pipeline::partition_info>& layout) {
    if (broker < 1 || broker > broker_count_)
        return "no broker " + std::to_string(broker) + " (the embedded cluster has brokers 1 to " +
               std::to_string(broker_count_) + ")";
    if (!up && static_cast<int>(down_.size()) + 1 >= broker_count_ && !down_.count(broker))
        return "at least one broker must stay up";
    auto err = up ? rd_kafka_mock_broker_set_up(cluster_, broker) : rd_kafka_mock_broker_set_down(cluster_, broker);
    if (err) return std::string("mock cluster refused: ") + rd_kafka_err2str(err);
    if (up)
        down_.erase(broker);
    else
        down_.insert(broker);
    if (up) return std::nullopt;

    // Elect a new leader for every partition the downed broker led: the next live replica.
    for (const auto& partition : layout) {
        if (partition.leader != broker) continue;
        for (int candidate : partition.replicas) {
            if (candidate == broker || down_.count(candidate)) continue;
            auto moved = rd_kafka_mock_partition_set_leader(cluster_, partition.topic.c_str(), partition.partition, candidate);
            if (moved)
                log::get("kafka")->warn("could not move the leader of {} [{}]: {}", partition.topic, partition.partition,
                                        rd_kafka_err2str(moved));
            else
                log::get("kafka")->info("embedded broker {} down: {} [{}] now led by broker {}", broker,
                                        partition.topic, partition.partition, candidate);
            break;
        }
    }
    return std::nullopt;
}

}  // namespace orderstream::kafka

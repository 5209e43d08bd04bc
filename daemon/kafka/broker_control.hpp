// Teaching controls for the embedded cluster: take a mock broker down or bring it back, and move
// the partition leaders off a downed broker as a real cluster's controller would (librdkafka's
// mock cluster does not do that by itself).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "pipeline/pipeline_events.hpp"

namespace orderstream::kafka {

class broker_control {
public:
    broker_control(rd_kafka_mock_cluster_t* cluster, int broker_count);

    // `layout` is the latest metadata (for the current leaders). Returns an error message for
    // the user, or nullopt.
    std::optional<std::string> set_up(int broker, bool up, const std::vector<pipeline::partition_info>& layout);
    const std::set<int>& down() const { return down_; }

private:
    rd_kafka_mock_cluster_t* cluster_;
    int broker_count_;
    std::set<int> down_;
};

}  // namespace orderstream::kafka
